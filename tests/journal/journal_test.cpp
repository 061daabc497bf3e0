// Journal appends and reads: sequences and chain, range/object/tenant queries in both
// orders, exact tenant isolation, states and meta, reopen, open errors, newer schema.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <thread>

#include "core/journal/journal.h"
#include "test_util.h"

namespace spr::journal {
namespace {

using testing::observed;
using testing::TempDir;

std::unique_ptr<Journal> openOrDie(const std::string& dir, Options options = {}) {
  auto j = Journal::open(dir, options);
  EXPECT_TRUE(j.isOk()) << j.status().toString();
  return j.isOk() ? std::move(j).value() : nullptr;
}

std::vector<uint64_t> seqsOf(const std::vector<Record>& records) {
  std::vector<uint64_t> out;
  for (const auto& r : records) out.push_back(r.seq);
  return out;
}

// Appends 10 records: objects a (seqs 1,3,5,7,9) and b (2,4,6,8,10); tenant acme for a,
// acme-2 for b.
void appendSample(Journal& j) {
  for (int i = 0; i < 10; ++i) {
    bool a = i % 2 == 0;
    auto seq =
        j.append(observed(a ? "acme" : "acme-2", a ? "acme" : "acme-2", a ? "a" : "b", std::to_string(i)), Sync::kNone);
    ASSERT_TRUE(seq.isOk()) << seq.status().toString();
    EXPECT_EQ(*seq, static_cast<uint64_t>(i + 1));
  }
}

TEST(Journal, AppendAssignsSequencesAndChainsHashes) {
  TempDir tmp;
  auto j = openOrDie(tmp.path());
  EXPECT_EQ(j->nextSeq(), 1u);
  AppendBatch batch;
  for (int i = 0; i < 3; ++i) batch.records.push_back(observed("acme", "acme", "a"));
  batch.records[1].wallUnixNanos = 0;  // "now"
  auto seqs = j->append(batch);
  ASSERT_TRUE(seqs.isOk()) << seqs.status().toString();
  EXPECT_EQ(*seqs, (std::vector<uint64_t>{1, 2, 3}));
  auto recs = j->readRange(1, 100, 100).value();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].prevHash, std::string(32, '\0'));
  EXPECT_EQ(recs[1].prevHash, recs[0].hash);
  EXPECT_EQ(recs[2].prevHash, recs[1].hash);
  EXPECT_GT(recs[1].wallUnixNanos, 1700000000000000000);
  EXPECT_EQ(recs[0].wallUnixNanos, 1700000000000000000);
  EXPECT_EQ(recs[2].schemaVersion, kSchemaVersion);
  EXPECT_EQ(j->chainHeadHex(), toHex(recs[2].hash));
  EXPECT_EQ(j->nextSeq(), 4u);
}

TEST(Journal, InjectedClockStampsRecords) {
  TempDir tmp;
  Options options;
  options.nowUnixNanos = [] { return int64_t{123456789}; };
  auto j = openOrDie(tmp.path(), options);
  Record r = observed("acme", "acme", "a");
  r.wallUnixNanos = 0;
  ASSERT_TRUE(j->append(r, Sync::kNone).isOk());
  EXPECT_EQ(j->readRange(1, 1, 1).value().at(0).wallUnixNanos, 123456789);
}

TEST(Journal, ReadRangeHonoursBoundsAndLimit) {
  TempDir tmp;
  auto j = openOrDie(tmp.path());
  appendSample(*j);
  EXPECT_EQ(seqsOf(j->readRange(3, 6, 100).value()), (std::vector<uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(seqsOf(j->readRange(3, 100, 2).value()), (std::vector<uint64_t>{3, 4}));
  EXPECT_TRUE(j->readRange(11, 20, 5).value().empty());
  EXPECT_TRUE(j->readRange(1, 10, 0).value().empty());
  std::vector<uint64_t> scanned;
  ASSERT_TRUE(j->scan(8, [&](const Record& r) {
                 scanned.push_back(r.seq);
                 return true;
               }).isOk());
  EXPECT_EQ(scanned, (std::vector<uint64_t>{8, 9, 10}));
  scanned.clear();
  ASSERT_TRUE(j->scan(1, [&](const Record& r) {
                 scanned.push_back(r.seq);
                 return r.seq < 2;
               }).isOk());
  EXPECT_EQ(scanned, (std::vector<uint64_t>{1, 2}));
}

TEST(Journal, ReadObjectBothOrdersWithLimit) {
  TempDir tmp;
  auto j = openOrDie(tmp.path());
  appendSample(*j);
  const std::string a = testing::objectId("acme", "a").key();
  EXPECT_EQ(seqsOf(j->readObject(a, Order::kOldestFirst, 100).value()), (std::vector<uint64_t>{1, 3, 5, 7, 9}));
  EXPECT_EQ(seqsOf(j->readObject(a, Order::kNewestFirst, 2).value()), (std::vector<uint64_t>{9, 7}));
  EXPECT_EQ(seqsOf(j->readObject(a, Order::kOldestFirst, 2).value()), (std::vector<uint64_t>{1, 3}));
  EXPECT_TRUE(j->readObject("no/such/object", Order::kNewestFirst, 10).value().empty());
  auto recs = j->readObject(a, Order::kOldestFirst, 1).value();
  EXPECT_EQ(std::get<Observed>(recs.at(0).payload).resourceVersion, "0");
}

TEST(Journal, TenantQueriesAreExact) {
  TempDir tmp;
  auto j = openOrDie(tmp.path());
  appendSample(*j);
  ASSERT_TRUE(j->append(observed("acm", "acm", "c"), Sync::kNone).isOk());  // seq 11
  EXPECT_EQ(seqsOf(j->readTenant("acme", Order::kOldestFirst, 100).value()), (std::vector<uint64_t>{1, 3, 5, 7, 9}));
  EXPECT_EQ(seqsOf(j->readTenant("acme", Order::kNewestFirst, 100).value()), (std::vector<uint64_t>{9, 7, 5, 3, 1}));
  EXPECT_EQ(seqsOf(j->readTenant("acme-2", Order::kNewestFirst, 3).value()), (std::vector<uint64_t>{10, 8, 6}));
  EXPECT_EQ(seqsOf(j->readTenant("acm", Order::kNewestFirst, 100).value()), (std::vector<uint64_t>{11}));
  EXPECT_TRUE(j->readTenant("ac", Order::kOldestFirst, 100).value().empty());
  EXPECT_TRUE(j->readTenant("acme-", Order::kNewestFirst, 100).value().empty());
  EXPECT_EQ(j->tenants().value(), (std::vector<std::string>{"acm", "acme", "acme-2"}));
  for (const char* known : {"acm", "acme", "acme-2"}) EXPECT_TRUE(j->hasTenant(known).value()) << known;
  for (const char* unknown : {"ac", "acme-", "acme-3", "b", ""}) EXPECT_FALSE(j->hasTenant(unknown).value()) << unknown;
}

TEST(Journal, StatesAndMetaAreWrittenWithTheRecords) {
  TempDir tmp;
  auto j = openOrDie(tmp.path());
  AppendBatch batch;
  batch.records.push_back(observed("acme", "acme", "a"));
  batch.states = {{"k/a", "state-a-1"}, {"k/b", std::string("bin\0ary", 7)}};
  batch.meta = {{"rv/onboarding", "1234"}};
  ASSERT_TRUE(j->append(batch).isOk());
  batch.states = {{"k/a", "state-a-2"}};
  batch.meta = {};
  ASSERT_TRUE(j->append(batch).isOk());
  EXPECT_EQ(j->latestState("k/a").value(), std::optional<std::string>("state-a-2"));
  EXPECT_EQ(j->latestState("k/b").value(), std::optional<std::string>(std::string("bin\0ary", 7)));
  EXPECT_FALSE(j->latestState("k/c").value().has_value());
  auto all = j->allStates().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, "k/a");
  EXPECT_EQ(j->meta("rv/onboarding").value(), std::optional<std::string>("1234"));
  EXPECT_FALSE(j->meta("rv/platform").value().has_value());
  EXPECT_FALSE(j->meta("sys/head").value().has_value()) << "user meta must not see internal keys";
  AppendBatch gone;
  gone.deleteStates = {"k/b"};
  ASSERT_TRUE(j->append(gone).isOk());
  EXPECT_FALSE(j->latestState("k/b").value().has_value());
  EXPECT_EQ(j->allStates().value().size(), 1u);
  EXPECT_EQ(j->nextSeq(), 3u) << "a batch without records appends none";
}

TEST(Journal, ReopenRecoversNextSequenceAndChainHead) {
  TempDir tmp;
  std::string head;
  {
    auto j = openOrDie(tmp.path());
    appendSample(*j);
    head = j->chainHeadHex();
  }
  auto j = openOrDie(tmp.path());
  EXPECT_EQ(j->nextSeq(), 11u);
  EXPECT_EQ(j->chainHeadHex(), head);
  EXPECT_EQ(j->append(observed("acme", "acme", "a"), Sync::kSync).value(), 11u);
  auto last = j->readRange(11, 11, 1).value();
  EXPECT_EQ(toHex(last.at(0).prevHash), head);
  EXPECT_TRUE(j->verify().ok) << j->verify().reason;
}

TEST(Journal, ConcurrentAppendsGetDistinctContiguousSequences) {
  TempDir tmp;
  auto j = openOrDie(tmp.path());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&j, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(j->append(observed("t" + std::to_string(t), "ns", "o" + std::to_string(t)), Sync::kNone).isOk());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(j->nextSeq(), 201u);
  EXPECT_EQ(j->readTenant("t2", Order::kOldestFirst, 1000).value().size(), 50u);
  VerifyReport v = j->verify();
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.recordsChecked, 200u);
}

TEST(Journal, ReadOnlyOpenReadsButRefusesAppends) {
  TempDir tmp;
  { appendSample(*openOrDie(tmp.path())); }
  Options ro;
  ro.readOnly = true;
  ro.createIfMissing = false;
  auto j = openOrDie(tmp.path(), ro);
  EXPECT_EQ(j->readRange(1, 100, 100).value().size(), 10u);
  auto r = j->append(observed("acme", "acme", "a"), Sync::kNone);
  EXPECT_FALSE(r.isOk());
}

TEST(Journal, OpenNeverCreatesWhenToldNotTo) {
  TempDir tmp;
  Options options;
  options.createIfMissing = false;
  auto j = Journal::open(tmp.sub("missing"), options);
  ASSERT_FALSE(j.isOk());
  EXPECT_EQ(j.status().code(), Code::kNotFound);
  EXPECT_NE(j.status().message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("missing")));
}

TEST(Journal, OpenRefusesDirectoriesThatAreNotJournals) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.sub("notes"));
  std::ofstream(tmp.sub("notes/readme.txt")) << "hello";
  auto j = Journal::open(tmp.sub("notes"));
  ASSERT_FALSE(j.isOk());
  EXPECT_EQ(j.status().code(), Code::kInvalidArgument);
  EXPECT_NE(j.status().message().find("not an spr journal"), std::string::npos) << j.status().message();

  rocksdb::DB* raw = nullptr;
  rocksdb::Options o;
  o.create_if_missing = true;
  ASSERT_TRUE(rocksdb::DB::Open(o, tmp.sub("plain"), &raw).ok());
  delete raw;
  auto plain = Journal::open(tmp.sub("plain"));
  ASSERT_FALSE(plain.isOk());
  EXPECT_NE(plain.status().message().find("not an spr journal"), std::string::npos) << plain.status().message();

  std::ofstream(tmp.sub("file")) << "x";
  EXPECT_EQ(Journal::open(tmp.sub("file")).status().code(), Code::kInvalidArgument);
}

TEST(Journal, SecondWriterIsRefusedClearly) {
  TempDir tmp;
  auto first = openOrDie(tmp.path());
  auto second = Journal::open(tmp.path());
  ASSERT_FALSE(second.isOk());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_NE(second.status().message().find("in use by another process"), std::string::npos)
      << second.status().message();
}

// A crash during the very first open leaves RocksDB's first files, or empty column
// families without metadata; the next open finishes creating the journal.
TEST(Journal, CreateInterruptedByACrashIsFinishedOnNextOpen) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.sub("a"));
  std::ofstream(tmp.sub("a/LOCK")) << "";
  std::ofstream(tmp.sub("a/LOG")) << "started";
  EXPECT_EQ(openOrDie(tmp.sub("a"))->nextSeq(), 1u);

  {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const char* n : {"default", "log", "by_object", "by_tenant", "state", "meta"}) {
      descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, tmp.sub("b"), descriptors, &handles, &raw).ok());
    for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    delete raw;
  }
  Options noCreate;
  noCreate.createIfMissing = false;
  EXPECT_EQ(Journal::open(tmp.sub("b"), noCreate).status().code(), Code::kInvalidArgument);
  auto j = openOrDie(tmp.sub("b"));
  EXPECT_EQ(j->append(observed("acme", "acme", "a"), Sync::kSync).value(), 1u);
}

// Rewrites the journal's stored schema version with raw RocksDB.
void setStoredSchemaVersion(const std::string& dir, const std::string& version) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir, descriptors, &handles, &raw).ok());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "meta") {
      ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[i], "sys/schema_version", version).ok());
    }
  }
  for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
  delete raw;
}

TEST(Journal, JournalFromNewerSchemaIsRefusedNamingBothVersions) {
  TempDir tmp;
  { appendSample(*openOrDie(tmp.path())); }
  setStoredSchemaVersion(tmp.path(), std::to_string(kSchemaVersion + 1));
  auto j = Journal::open(tmp.path());
  ASSERT_FALSE(j.isOk());
  EXPECT_EQ(j.status().code(), Code::kVersionMismatch);
  const std::string& m = j.status().message();
  EXPECT_NE(m.find("schema version " + std::to_string(kSchemaVersion + 1)), std::string::npos) << m;
  EXPECT_NE(m.find("up to " + std::to_string(kSchemaVersion)), std::string::npos) << m;
}

}  // namespace
}  // namespace spr::journal
