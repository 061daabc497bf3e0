#include "replay/line_stream.h"

#include <zstd.h>

#include <cstring>

namespace spr::replay {

namespace {

constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};  // ZSTD_MAGICNUMBER, little endian
constexpr size_t kChunk = 1 << 16;

Status zstdError(const std::string& path, const char* what, size_t code) {
  return Status(Code::kIoError, std::string(what) + " " + path + ": " + ZSTD_getErrorName(code));
}

}  // namespace

struct ZstdLineWriter::Stream {
  FILE* file = nullptr;
  ZSTD_CCtx* cctx = nullptr;
  std::vector<char> out = std::vector<char>(ZSTD_CStreamOutSize());
  ~Stream() {
    if (cctx) ZSTD_freeCCtx(cctx);
    if (file) std::fclose(file);
  }
};

ZstdLineWriter::ZstdLineWriter() = default;
ZstdLineWriter::~ZstdLineWriter() = default;

Status ZstdLineWriter::open(const std::string& path) {
  path_ = path;
  s_ = std::make_unique<Stream>();
  s_->file = std::fopen(path.c_str(), "wb");
  if (!s_->file) return Status(Code::kIoError, "cannot write " + path + ": " + std::strerror(errno));
  s_->cctx = ZSTD_createCCtx();
  if (!s_->cctx) return Status(Code::kInternal, "zstd: out of memory for " + path);
  // Level 3 with long-distance matching over 16 MiB: an unchanged poll's records repeat
  // every few hundred KB, and readers need at most 16 MiB of window to decode.
  for (auto [param, value] : {std::pair{ZSTD_c_compressionLevel, 3}, std::pair{ZSTD_c_enableLongDistanceMatching, 1},
                              std::pair{ZSTD_c_windowLog, 24}, std::pair{ZSTD_c_checksumFlag, 1}}) {
    size_t rc = ZSTD_CCtx_setParameter(s_->cctx, param, value);
    if (ZSTD_isError(rc)) return zstdError(path, "configuring zstd for", rc);
  }
  return Status();
}

Status ZstdLineWriter::writeLine(std::string_view line) {
  SPR_RETURN_IF_ERROR(compress(line, false));
  return compress("\n", false);
}

Status ZstdLineWriter::compress(std::string_view in, bool end) {
  if (!s_ || !s_->file) return Status(Code::kInternal, "archive writer used before open()");
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    ZSTD_outBuffer ob{s_->out.data(), s_->out.size(), 0};
    size_t left = ZSTD_compressStream2(s_->cctx, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left)) return zstdError(path_, "compressing", left);
    if (ob.pos > 0 && std::fwrite(s_->out.data(), 1, ob.pos, s_->file) != ob.pos)
      return Status(Code::kIoError, "writing " + path_ + " failed (disk full?): " + std::strerror(errno));
    if (end ? left == 0 : ib.pos == ib.size) return Status();
  }
}

Status ZstdLineWriter::finish() {
  SPR_RETURN_IF_ERROR(compress({}, true));
  const bool flushed = std::fflush(s_->file) == 0;
  const bool closed = std::fclose(s_->file) == 0;
  s_->file = nullptr;
  if (!flushed || !closed)
    return Status(Code::kIoError, "writing " + path_ + " failed (disk full?): " + std::strerror(errno));
  return Status();
}

struct LineReader::Stream {
  FILE* file = nullptr;
  ZSTD_DCtx* dctx = nullptr;  // null: a plain file
  std::vector<char> in = std::vector<char>(ZSTD_DStreamInSize());
  std::vector<char> out = std::vector<char>(ZSTD_DStreamOutSize());
  ZSTD_inBuffer ib{nullptr, 0, 0};
  size_t frameLeft = 0;  // ZSTD_decompressStream's hint: 0 once a frame is complete
  ~Stream() {
    if (dctx) ZSTD_freeDCtx(dctx);
    if (file) std::fclose(file);
  }
};

LineReader::LineReader() = default;
LineReader::~LineReader() = default;

Status LineReader::open(const std::string& path) {
  path_ = path;
  s_ = std::make_unique<Stream>();
  s_->file = std::fopen(path.c_str(), "rb");
  if (!s_->file) return Status(Code::kNotFound, path + ": " + std::strerror(errno));
  size_t n = std::fread(s_->in.data(), 1, s_->in.size(), s_->file);
  s_->ib = ZSTD_inBuffer{s_->in.data(), n, 0};
  if (n >= sizeof kZstdMagic && std::memcmp(s_->in.data(), kZstdMagic, sizeof kZstdMagic) == 0) {
    s_->dctx = ZSTD_createDCtx();
    if (!s_->dctx) return Status(Code::kInternal, "zstd: out of memory for " + path);
    size_t rc = ZSTD_DCtx_setParameter(s_->dctx, ZSTD_d_windowLogMax, 27);
    if (ZSTD_isError(rc)) return zstdError(path, "configuring zstd for", rc);
  } else {
    pending_.assign(s_->in.data(), n);  // a plain file: what was read is text
  }
  return Status();
}

// Adds the next piece of text to pending_; false at the end of the file or on an error.
bool LineReader::fill() {
  if (!s_->dctx) {
    size_t n = std::fread(s_->in.data(), 1, s_->in.size(), s_->file);
    if (n == 0 && std::ferror(s_->file)) status_ = Status(Code::kIoError, "reading " + path_ + " failed");
    pending_.append(s_->in.data(), n);
    return n > 0;
  }
  for (;;) {
    if (s_->ib.pos == s_->ib.size) {
      size_t n = std::fread(s_->in.data(), 1, s_->in.size(), s_->file);
      if (n == 0) {
        if (std::ferror(s_->file))
          status_ = Status(Code::kIoError, "reading " + path_ + " failed");
        else if (s_->frameLeft != 0)
          status_ = Status(Code::kInvalidArgument, path_ + ": the compressed stream is truncated");
        return false;
      }
      s_->ib = ZSTD_inBuffer{s_->in.data(), n, 0};
    }
    ZSTD_outBuffer ob{s_->out.data(), s_->out.size(), 0};
    s_->frameLeft = ZSTD_decompressStream(s_->dctx, &ob, &s_->ib);
    if (ZSTD_isError(s_->frameLeft)) {
      status_ = Status(Code::kInvalidArgument,
                       path_ + ": the compressed stream is damaged (" + ZSTD_getErrorName(s_->frameLeft) + ")");
      return false;
    }
    if (ob.pos > 0) {
      pending_.append(s_->out.data(), ob.pos);
      return true;
    }
  }
}

bool LineReader::next(std::string* line) {
  if (!s_ || !status_.isOk()) return false;
  for (;;) {
    size_t nl = pending_.find('\n', pos_);
    if (nl != std::string::npos) {
      line->assign(pending_, pos_, nl - pos_);
      pos_ = nl + 1;
      return true;
    }
    if (pos_ > 0) {  // keep only the unfinished line
      pending_.erase(0, pos_);
      pos_ = 0;
    }
    if (eof_ || !fill()) {
      eof_ = true;
      if (!status_.isOk() || pending_.empty()) return false;
      line->swap(pending_);  // the last line, without a newline
      pending_.clear();
      return true;
    }
  }
}

}  // namespace spr::replay
