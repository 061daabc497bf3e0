// Line-oriented files for archives and bundles: a writer that compresses with zstd (long
// distance matching over a 16 MiB window, so a poll's tape repeated thousands of times costs
// little), and a reader of lines from a plain or a zstd-compressed file alike (told apart by
// zstd's magic number). Not thread-safe: one owner per object.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace spr::replay {

class ZstdLineWriter {
 public:
  ZstdLineWriter();
  ~ZstdLineWriter();
  ZstdLineWriter(const ZstdLineWriter&) = delete;
  ZstdLineWriter& operator=(const ZstdLineWriter&) = delete;

  [[nodiscard]] Status open(const std::string& path);
  // Appends `line` and a newline.
  [[nodiscard]] Status writeLine(std::string_view line);
  // Ends the zstd frame and closes the file (without fsync: the caller syncs).
  [[nodiscard]] Status finish();

 private:
  Status compress(std::string_view in, bool end);

  struct Stream;
  std::unique_ptr<Stream> s_;
  std::string path_;
};

class LineReader {
 public:
  LineReader();
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Fails when the file cannot be opened.
  [[nodiscard]] Status open(const std::string& path);
  // The next line without its newline; false at the end or on an error (see status()).
  bool next(std::string* line);
  // Why the last next() returned false, when not the end: a read error or a damaged or
  // truncated zstd stream, naming the file.
  const Status& status() const { return status_; }

 private:
  bool fill();

  struct Stream;
  std::unique_ptr<Stream> s_;
  std::string path_, pending_;
  size_t pos_ = 0;
  bool eof_ = false;
  Status status_;
};

}  // namespace spr::replay
