// Archive files: compaction writes them zstd-compressed (their records carry every body
// inline, and unchanged polls repeat), readers take compressed and plain (older) archives
// alike, and a truncated or damaged archive is refused with the file named, never misread.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/journal/journal.h"
#include "replay/bundle.h"
#include "replay/compact.h"
#include "replay/line_stream.h"
#include "tests/replay/journal_maker.h"

namespace spr::replay {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> allLines(const std::string& path, Status* status) {
  LineReader r;
  std::vector<std::string> lines;
  *status = r.open(path);
  if (!status->isOk()) return lines;
  for (std::string line; r.next(&line);) lines.push_back(line);
  *status = r.status();
  return lines;
}

TEST(LineStreamTest, RepeatedLinesCompressFarAndReadBackExactly) {
  const std::string path = testing::tempDir("zl") + ".zst";
  // A poll's tape: 20 KB of JSON that differs only in its sequence number, 2,000 times.
  const std::string body(20000, 'x');
  std::vector<std::string> written;
  ZstdLineWriter w;
  ASSERT_TRUE(w.open(path).isOk());
  for (int i = 0; i < 2000; ++i) {
    written.push_back("{\"seq\":" + std::to_string(i) + ",\"body\":\"" + body + "\"}");
    ASSERT_TRUE(w.writeLine(written.back()).isOk());
  }
  ASSERT_TRUE(w.writeLine("").isOk());  // an empty line survives too
  written.push_back("");
  ASSERT_TRUE(w.finish().isOk());
  const size_t text = 2000 * (body.size() + 20);
  EXPECT_LT(fs::file_size(path) * 100, text) << "2,000 near-identical 20 KB lines should compress over 100x";
  Status s;
  EXPECT_EQ(allLines(path, &s), written);
  EXPECT_TRUE(s.isOk()) << s.toString();
  fs::remove(path);
}

TEST(LineStreamTest, PlainFilesReadAsBeforeIncludingALastLineWithoutNewline) {
  const std::string path = testing::tempDir("pl") + ".txt";
  std::ofstream(path) << "first\n\nthird";
  Status s;
  EXPECT_EQ(allLines(path, &s), (std::vector<std::string>{"first", "", "third"}));
  EXPECT_TRUE(s.isOk());
  fs::remove(path);
}

class ArchiveFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::tempDir("af");
    testing::writeScenarioJournal(dir_);
    auto j = journal::Journal::open(dir_);
    ASSERT_TRUE(j.isOk()) << j.status().toString();
    auto res = compactJournal(**j, std::numeric_limits<int64_t>::max(), archive());
    ASSERT_TRUE(res.isOk()) << res.status().toString();
    archived_ = res->keptFrom - 1;
  }
  void TearDown() override {
    fs::remove_all(dir_);
    for (const char* s : {".archive", ".plain", ".cut"}) fs::remove(dir_ + s);
  }
  std::string archive() const { return dir_ + ".archive"; }
  std::string dir_;
  uint64_t archived_ = 0;
};

TEST_F(ArchiveFileTest, CompactionWritesACompressedArchiveThatReadsWhole) {
  const std::string bytes = slurp(archive());
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x28) << "zstd magic expected";
  EXPECT_EQ(static_cast<unsigned char>(bytes[3]), 0xFD);
  Status s;
  std::vector<std::string> lines = allLines(archive(), &s);
  ASSERT_TRUE(s.isOk()) << s.toString();
  size_t text = 0;
  for (const auto& l : lines) text += l.size() + 1;
  EXPECT_LT(bytes.size() * 3, text) << "the archive is not smaller than a third of its text";
  auto b = readBundle(archive());
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  ASSERT_FALSE(b->records.empty());
  EXPECT_EQ(b->records.front().seq, 1u);
  EXPECT_EQ(b->records.back().seq, archived_);
}

TEST_F(ArchiveFileTest, AnUncompressedArchiveOfAnEarlierReleaseStillReads) {
  Status s;
  std::vector<std::string> lines = allLines(archive(), &s);
  ASSERT_TRUE(s.isOk()) << s.toString();
  {
    std::ofstream plain(dir_ + ".plain");
    for (const auto& l : lines) plain << l << '\n';
  }
  auto a = readBundle(archive());
  auto p = readBundle(dir_ + ".plain");
  ASSERT_TRUE(a.isOk() && p.isOk()) << p.status().toString();
  ASSERT_EQ(a->records.size(), p->records.size());
  EXPECT_EQ(a->records.back().hash, p->records.back().hash);
}

TEST_F(ArchiveFileTest, ATruncatedOrDamagedArchiveIsRefusedNamingTheFile) {
  const std::string bytes = slurp(archive());
  const std::string cut = dir_ + ".cut";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto t = readBundle(cut);
  ASSERT_FALSE(t.isOk());
  EXPECT_NE(t.status().message().find(cut), std::string::npos) << t.status().message();
  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5A);
  std::ofstream(cut, std::ios::binary | std::ios::trunc) << flipped;
  auto d = readBundle(cut);
  ASSERT_FALSE(d.isOk()) << "a flipped byte inside the compressed stream went unnoticed";
  EXPECT_NE(d.status().message().find(cut), std::string::npos) << d.status().message();
}

}  // namespace
}  // namespace spr::replay
