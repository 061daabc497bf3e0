// journal_bench: what the journal costs over raw RocksDB, measured in the same run.
// Pairs: append one at a time and batched, sync off and on (journal.append vs raw Put /
// WriteBatch of the same encoded bytes), and read-back (readRange, decoding) vs raw
// iteration. After the runs it prints each pair's ratio journal/raw.
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "core/journal/codec.h"
#include "core/journal/journal.h"

namespace {

using namespace spr::journal;
namespace fs = std::filesystem;

constexpr int kRecords = 200;  // per iteration

Record sampleRecord(int i) {
  Record r;
  r.object = {"onboarding", "crossplane.services.open-control-plane.io", "v1alpha1",
              "Crossplane", "project-" + std::to_string(i % 10),         "mcp-" + std::to_string(i % 50),
              "uid"};
  r.tenant = "project-" + std::to_string(i % 10);
  r.wallUnixNanos = 1700000000000000000 + i;
  r.payload =
      Observed{"onboarding", WatchType::kModified,
               R"({"spec":{"version":"1.17.0","providers":["aws","gcp"]},"pad":")" + std::string(400, 'x') + "\"}",
               std::to_string(i), 2};
  return r;
}

std::string freshDir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("spr-journal-bench-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

std::string be64(uint64_t v) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) k[i] = static_cast<char>(v & 0xff);
  return k;
}

// A plain RocksDB database: the baseline.
struct RawDb {
  explicit RawDb(const std::string& d) : dir(d) {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, dir, &raw).ok()) std::abort();
    db.reset(raw);
  }
  ~RawDb() {
    db.reset();
    fs::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<rocksdb::DB> db;
};

struct JournalDb {
  explicit JournalDb(const std::string& d) : dir(d), journal(Journal::open(d).value()) {}
  ~JournalDb() {
    journal.reset();
    fs::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<Journal> journal;
};

// The encoded bytes the journal would write: the raw baseline writes exactly these.
std::vector<std::string> encodedSamples() {
  std::vector<std::string> out;
  for (int i = 0; i < kRecords; ++i) out.push_back(encodeRecord(sampleRecord(i)).value());
  return out;
}

void journalAppend(benchmark::State& state, bool batched, Sync sync) {
  JournalDb j(freshDir("j"));
  std::vector<Record> records;
  for (int i = 0; i < kRecords; ++i) records.push_back(sampleRecord(i));
  for (auto _ : state) {
    if (batched) {
      state.PauseTiming();  // the copy is the benchmark's, not the journal's
      AppendBatch batch;
      batch.records = records;
      batch.sync = sync;
      state.ResumeTiming();
      if (!j.journal->append(std::move(batch)).isOk()) state.SkipWithError("append failed");
    } else {
      for (const Record& r : records) {
        if (!j.journal->append(r, sync).isOk()) state.SkipWithError("append failed");
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}

void rawAppend(benchmark::State& state, bool batched, Sync sync) {
  RawDb raw(freshDir("raw"));
  const std::vector<std::string> values = encodedSamples();
  rocksdb::WriteOptions wo;
  wo.sync = sync == Sync::kSync;
  uint64_t seq = 0;
  for (auto _ : state) {
    if (batched) {
      rocksdb::WriteBatch wb;
      for (const auto& v : values) wb.Put(be64(++seq), v);
      if (!raw.db->Write(wo, &wb).ok()) state.SkipWithError("write failed");
    } else {
      for (const auto& v : values) {
        if (!raw.db->Put(wo, be64(++seq), v).ok()) state.SkipWithError("put failed");
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}

void journalRead(benchmark::State& state) {
  JournalDb j(freshDir("jr"));
  for (int i = 0; i < 10; ++i) {
    AppendBatch batch;
    for (int k = 0; k < kRecords; ++k) batch.records.push_back(sampleRecord(k));
    if (!j.journal->append(std::move(batch)).isOk()) std::abort();
  }
  for (auto _ : state) {
    auto records = j.journal->readRange(1, 10 * kRecords, 10 * kRecords);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations() * 10 * kRecords);
}

void rawRead(benchmark::State& state) {
  RawDb raw(freshDir("rr"));
  const std::vector<std::string> values = encodedSamples();
  uint64_t seq = 0;
  for (int i = 0; i < 10; ++i) {
    for (const auto& v : values) raw.db->Put(rocksdb::WriteOptions(), be64(++seq), v).PermitUncheckedError();
  }
  for (auto _ : state) {
    std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions()));
    size_t bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) bytes += it->value().size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * 10 * kRecords);
}

// Breakdown, no ratio: the encode + SHA-256 chain cost alone, per the same 200 records.
void sealOnly(benchmark::State& state) {
  std::vector<Record> records;
  for (int i = 0; i < kRecords; ++i) records.push_back(sampleRecord(i));
  for (auto _ : state) {
    for (Record& r : records) benchmark::DoNotOptimize(sealRecord(r));
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}

// Breakdown, no ratio: decoding the same records from bytes, without RocksDB.
void decodeOnly(benchmark::State& state) {
  const std::vector<std::string> values = encodedSamples();
  for (auto _ : state) {
    for (const auto& v : values) benchmark::DoNotOptimize(decodeRecord(v));
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}

// Remembers each benchmark's real time per iteration, for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Iteration) times[r.run_name.function_name] = r.GetAdjustedRealTime();
    }
  }
  std::map<std::string, double> times;
};

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"append_one/nosync", "one record per append, no sync"},
      {"append_one/sync", "one record per append, WAL synced each time"},
      {"append_batch/nosync", "200 records per append, no sync"},
      {"append_batch/sync", "200 records per append, one WAL sync"},
      {"read_back", "read 2000 records in sequence order"}};
  for (Sync sync : {Sync::kNone, Sync::kSync}) {
    const std::string s = sync == Sync::kSync ? "sync" : "nosync";
    for (bool batched : {false, true}) {
      const std::string name = std::string(batched ? "append_batch/" : "append_one/") + s;
      benchmark::RegisterBenchmark(("journal/" + name).c_str(), journalAppend, batched, sync)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("raw/" + name).c_str(), rawAppend, batched, sync)->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RegisterBenchmark("journal/read_back", journalRead)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("raw/read_back", rawRead)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("breakdown/seal_200", sealOnly)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("breakdown/decode_200", decodeOnly)->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nratio journal/raw RocksDB (same encoded bytes, same run):\n");
  for (const auto& [name, what] : pairs) {
    auto j = reporter.times.find("journal/" + name), r = reporter.times.find("raw/" + name);
    if (j == reporter.times.end() || r == reporter.times.end() || r->second <= 0) continue;
    std::printf("  %-22s %6.2fx   (%s)\n", name.c_str(), j->second / r->second, what.c_str());
  }
  benchmark::Shutdown();
  return 0;
}
