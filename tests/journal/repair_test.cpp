// `spr journal repair` on real damaged files: the original stays byte-identical in the
// backup, the salvaged journal verifies, and the report names exactly what was lost.
#include <gtest/gtest.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

#include <filesystem>
#include <map>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::map<std::string, std::string> filesOf(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    files[e.path().filename().string()] = testing::slurp(e.path().string());
  return files;
}

// Appends records from..to, each reopening flushing the previous ones into a table file.
void appendRange(const std::string& dir, int from, int to) {
  auto j = Journal::open(dir).value();
  for (int i = from; i <= to; ++i) {
    ASSERT_TRUE(j->append(testing::observed("acme", "acme", "obj" + std::to_string(i % 5)), Sync::kNone).isOk());
  }
}

// The table file holding log record `seq`.
std::string logTableWith(const std::string& dir, uint64_t seq) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".sst") continue;
    rocksdb::SstFileReader reader(rocksdb::Options{});
    if (!reader.Open(e.path().string()).ok() || reader.GetTableProperties()->column_family_name != "log") continue;
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
    std::string key(8, '\0');
    for (int i = 7; i >= 0; --i) key[7 - i] = static_cast<char>((seq >> (8 * i)) & 0xff);
    it->Seek(key);
    if (it->Valid() && it->key() == key) return e.path().string();
  }
  return "";
}

class Repair : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.sub("journal"); }
  std::string backup() const { return tmp_.sub("backup"); }
  testing::RunResult repair() {
    return testing::run({testing::sprBinary(), "journal", "repair", "--journal", dir(), "--backup", backup()},
                        tmp_.path());
  }
  TempDir tmp_;
};

TEST_F(Repair, TruncatedManifestLosesNothingAndKeepsTheOriginal) {
  appendRange(dir(), 1, 60);
  appendRange(dir(), 61, 120);
  appendRange(dir(), 121, 121);
  const std::string anchor = Journal::openForReading(dir()).value()->verify().headHash;
  for (const auto& e : fs::directory_iterator(dir())) {
    if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) fs::resize_file(e.path(), 500);
  }
  const auto damaged = filesOf(dir());
  ASSERT_FALSE(Journal::open(dir()).isOk());
  auto r = repair();
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("lost: none"), std::string::npos) << r.out;
  EXPECT_TRUE(filesOf(backup()) == damaged) << "the backup is not the original, byte for byte";
  auto j = Journal::open(dir());
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  VerifyReport v = (*j)->verify();
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.headHash, anchor) << "the salvaged chain is not the original's";
  EXPECT_EQ((*j)->append(testing::observed("acme", "acme", "next"), Sync::kSync).value(), 122u);
}

TEST_F(Repair, LostTableFileIsNamedBySequence) {
  appendRange(dir(), 1, 40);
  appendRange(dir(), 41, 80);
  appendRange(dir(), 81, 120);
  appendRange(dir(), 121, 121);
  const std::string table = logTableWith(dir(), 60);
  ASSERT_FALSE(table.empty());
  ASSERT_TRUE(logTableWith(dir(), 20) != table && logTableWith(dir(), 100) != table) << "records not split by file";
  fs::remove(table);
  const auto damaged = filesOf(dir());
  auto r = repair();
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("salvaged: sequences 81..121 (41 records)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lost: 1..80 (80 records)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cut off from the newest records by a gap: 1..40"), std::string::npos) << r.out;
  EXPECT_TRUE(filesOf(backup()) == damaged);
  auto j = Journal::openForReading(dir());
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  EXPECT_TRUE((*j)->verify().ok) << (*j)->verify().reason;
  EXPECT_EQ((*j)->firstSeq(), 81u);
}

TEST_F(Repair, RefusesABackupThatIsNotEmptyAndChangesNothing) {
  appendRange(dir(), 1, 3);
  fs::create_directories(backup());
  std::ofstream(backup() + "/x") << "x";
  const auto before = filesOf(dir());
  auto r = repair();
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
  EXPECT_TRUE(filesOf(dir()) == before);
}

}  // namespace
}  // namespace spr::journal
