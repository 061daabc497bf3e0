// Replay throughput (records/s) against raw RocksDB iteration of the same journal in the
// same run, and `spr audit` latency for one tenant. The journal is synthesized with the
// real fold and the runtime's record layout (RECORDS.md): per object an ADDED event, the
// ConfigSeen, and the effects up to Ready, one tenant per 100 records (10,000 tenants in
// a 1,000,000-record journal). SPR_REPLAY_BENCH_RECORDS sets the size (default 100000);
// SPR_REPLAY_BENCH_JOURNAL=DIR measures a kept journal instead (see useKept).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/journal/journal.h"
#include "replay/audit.h"
#include "replay/inputs.h"
#include "replay/replay_run.h"

namespace spr::replay {
namespace {

using nlohmann::json;
namespace lc = lifecycle;

struct Synth {
  journal::Journal* j;
  uint64_t configSeq = 0;
  lc::ConfigSeen config;  // what the runtime folds for the config record (replay/inputs.h)

  journal::Record base(const journal::ObjectId& id, const std::string& tenant) {
    journal::Record r;
    r.object = id;
    r.tenant = tenant;
    return r;
  }
  // Folds, journals Transition + EffectRequested like the runtime, returns the commands.
  std::vector<lc::Command> fold(lc::State& s, const journal::ObjectId& id, const std::string& tenant,
                                const lc::Input& in, uint64_t inputSeq) {
    lc::FoldResult res = lc::fold(s, in);
    journal::AppendBatch batch;
    journal::Record t = base(id, tenant);
    std::string from = lc::phaseName(s.phase);
    if (!res.rejected) s = res.state;
    t.payload = journal::Transition{from, lc::phaseName(s.phase),
                                    res.rejected ? "rejected: " + res.reason : lc::describe(in), inputSeq, false};
    batch.records.push_back(t);
    std::vector<lc::Command> out;
    for (const auto& any : res.commands) {
      const auto* c = std::get_if<lc::Command>(&any);
      if (!c) continue;
      json inJson = {{"objectResourceVersion", "1"}, {"generation", s.generation}, {"configSeq", configSeq}};
      if (c->op == lc::Op::kWriteStatus)
        inJson["status"] = {{"phase", c->status.phase},
                            {"ready", c->status.ready},
                            {"reason", c->status.reason},
                            {"message", c->status.message},
                            {"observedGeneration", c->status.observedGeneration}};
      journal::Record q = base(id, tenant);
      q.payload = journal::EffectRequested{c->effectId, lc::opName(c->op), inJson.dump(), inputSeq};
      batch.records.push_back(q);
      out.push_back(*c);
    }
    batch.states.emplace_back(id.key(), json{{"lifecycle", json::parse(lc::toJson(s))}}.dump());
    batch.meta.emplace_back("runtime/fold-low-water", std::to_string(j->nextSeq() + 1 + out.size()));
    (void)j->append(std::move(batch));
    return out;
  }
  void object(const std::string& ns, const std::string& name) {
    // The crossplane provider's kind, so `spr run --provider-name crossplane` restores them
    // (restore-time measurements on a kept journal: SPR_REPLAY_BENCH_KEEP).
    journal::ObjectId id{"onboarding", "crossplane.services.open-control-plane.io", "v1alpha1", "Crossplane", ns, name,
                         "uid-" + name};
    lc::State s;
    s.objectKey = ns + "/" + name;
    json obj = {{"metadata", {{"namespace", ns}, {"name", name}, {"generation", 1}}}, {"spec", {{"replicas", 1}}}};
    journal::Record seen = base(id, ns);
    seen.payload = journal::Observed{"onboarding", journal::WatchType::kAdded, obj.dump(), "1", 1};
    uint64_t seenSeq = *j->append(seen, journal::Sync::kNone);
    const lc::ConfigSeen cfg = config;
    std::vector<lc::Command> todo = fold(s, id, ns, cfg, configSeq);
    auto more = fold(s, id, ns, lc::ObjectSeen{1, false, false, ""}, seenSeq);
    todo.insert(todo.end(), more.begin(), more.end());
    bool created = false;
    while (!todo.empty()) {
      lc::Command c = todo.front();
      todo.erase(todo.begin());
      lc::EffectDone done;
      done.effectId = c.effectId;
      done.op = c.op;
      json result = json::object();
      if (c.op == lc::Op::kObserve) {
        done.exists = created;
        result = {{"exists", created}, {"drift", false}, {"ready", true}};
      }
      if (c.op == lc::Op::kCreate) created = true;
      journal::Record rec = base(id, ns);
      rec.payload = journal::EffectCompleted{
          c.effectId, lc::opName(c.op), journal::Outcome::kSucceeded, "", "", result.dump(), {}, ""};
      uint64_t seq = *j->append(rec, journal::Sync::kNone);
      auto next = fold(s, id, ns, done, seq);
      todo.insert(todo.end(), next.begin(), next.end());
    }
  }
};

uint64_t benchRecords() {
  const char* v = std::getenv("SPR_REPLAY_BENCH_RECORDS");
  return v ? std::strtoull(v, nullptr, 10) : 100000;
}

std::string g_dir;
uint64_t g_records = 0;
size_t g_tenants = 0;

void build() {
  g_dir = (std::filesystem::temp_directory_path() / ("spr-replay-bench-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(g_dir);
  auto j = journal::Journal::open(g_dir);
  if (!j) std::abort();
  Synth synth{j->get(), 0, {}};
  journal::Record cfg;
  cfg.object = journal::ObjectId{"platform", "bench.io", "v1", "ProviderConfig", "", "bench", "cfg"};
  cfg.payload = journal::Observed{"platform", journal::WatchType::kAdded,
                                  R"({"metadata":{"name":"bench"},"spec":{"pollInterval":"1h"}})", "1", 1};
  synth.configSeq = *(*j)->append(cfg, journal::Sync::kNone);
  synth.config =
      fold::configSeenOf(journal::WatchType::kAdded, json::parse(std::get<journal::Observed>(cfg.payload).objectJson));
  const uint64_t target = benchRecords();
  g_tenants = std::max<size_t>(1, target / 100);
  for (uint64_t n = 0; (*j)->nextSeq() <= target; ++n)
    synth.object("tenant-" + std::to_string(n % g_tenants), "o-" + std::to_string(n));
  g_records = (*j)->nextSeq() - 1;
}

// SPR_REPLAY_BENCH_JOURNAL=DIR: measure a journal this bench kept earlier (SPR_REPLAY_BENCH_KEEP)
// instead of building one; opened read-only, never changed, never removed.
bool useKept() {
  const char* dir = std::getenv("SPR_REPLAY_BENCH_JOURNAL");
  if (!dir || !*dir) return false;
  g_dir = dir;
  auto j = journal::Journal::openForReading(g_dir);
  if (!j) {
    std::fprintf(stderr, "SPR_REPLAY_BENCH_JOURNAL=%s: %s\n", dir, j.status().toString().c_str());
    std::exit(2);
  }
  g_records = (*j)->nextSeq() - 1;
  g_tenants = (*j)->tenants()->size();
  return true;
}

void replayAll(benchmark::State& state) {
  journal::Options o;
  o.readOnly = true;
  auto j = journal::Journal::open(g_dir, o);
  for (auto _ : state) {
    ReplayOptions options;
    Replayer r(options);
    if (!replayJournal(**j, r, options).isOk()) state.SkipWithError("replay failed");
    if (const auto& d = r.divergence()) {
      std::fprintf(stderr, "divergence at seq %llu (%s): recorded %s | produced %s\n",
                   static_cast<unsigned long long>(d->seq), d->what.c_str(), d->expected.c_str(), d->got.c_str());
      state.SkipWithError("replay diverged");
    }
    benchmark::DoNotOptimize(r.folds());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * g_records));
}

void journalScan(benchmark::State& state) {
  journal::Options o;
  o.readOnly = true;
  auto j = journal::Journal::open(g_dir, o);
  for (auto _ : state) {
    uint64_t n = 0;
    (void)(*j)->scan(1, [&](const journal::Record&) { return ++n > 0; });
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * g_records));
}

void rawIterate(benchmark::State& state) {
  std::vector<std::string> names;
  (void)rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), g_dir, &names);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::Options(), g_dir, cfs, &handles, &db).ok()) std::abort();
  rocksdb::ColumnFamilyHandle* log = nullptr;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == "log") log = handles[i];
  for (auto _ : state) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), log));
    size_t bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string v = it->value().ToString();  // the copy the journal also makes
      bytes += v.size();
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * g_records));
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  delete db;
}

void auditOneTenant(benchmark::State& state) {
  journal::Options o;
  o.readOnly = true;
  auto j = journal::Journal::open(g_dir, o);
  size_t rows = 0;
  for (auto _ : state) {
    AuditQuery q;
    q.tenant = "tenant-" + std::to_string(g_tenants / 2);
    auto r = audit(**j, q);
    if (!r || !r->chain.ok) state.SkipWithError("audit failed");
    rows = r->rows.size();
  }
  state.counters["rows"] = static_cast<double>(rows);
}

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration) times[r.run_name.function_name] = r.GetAdjustedRealTime();
  }
  std::map<std::string, double> times;
};

}  // namespace
}  // namespace spr::replay

int main(int argc, char** argv) {
  using namespace spr::replay;
  auto t0 = std::chrono::steady_clock::now();
  const bool kept = useKept();
  if (!kept) build();
  std::printf(kept ? "journal: %llu records, %zu tenants, kept (%.1f s to open)\n"
                   : "journal: %llu records, %zu tenants, built in %.1f s\n",
              static_cast<unsigned long long>(g_records), g_tenants,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  benchmark::RegisterBenchmark("raw/iterate", rawIterate)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("journal/scan", journalScan)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("replay/all", replayAll)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("audit/one_tenant", auditOneTenant)->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto raw = reporter.times["raw/iterate"];
  if (raw > 0) {
    std::printf("\nratio to raw RocksDB iteration of the same journal (same run):\n");
    std::printf("  replay/all    %6.2fx  (%.0f records/s)\n", reporter.times["replay/all"] / raw,
                g_records / (reporter.times["replay/all"] / 1e3));
    std::printf("  journal/scan  %6.2fx  (decode only)\n", reporter.times["journal/scan"] / raw);
  }
  std::printf("  audit of one tenant of %zu: %.0f us\n", g_tenants, reporter.times["audit/one_tenant"]);
  benchmark::Shutdown();
  if (kept) return 0;
  if (const char* keep = std::getenv("SPR_REPLAY_BENCH_KEEP"); keep && *keep) {
    std::filesystem::remove_all(keep);
    std::filesystem::rename(g_dir, keep);
    std::printf("journal kept in %s\n", keep);
    return 0;
  }
  std::filesystem::remove_all(g_dir);
  return 0;
}
