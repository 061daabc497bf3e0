// journal_crash_writer DIR SEED [BATCHES [drop|reserve=BYTES]]: appends synced batches of 1-4 records to
// the journal in DIR (forever, or BATCHES of them), printing "open <nextSeq>" once and then
// "ok <first> <last>" after each append returns; with "drop", every 8th batch also drops
// the oldest records and compacts (the compaction path). crash_test kills it with SIGKILL
// at random moments, or arms a kill point (SPR_KILL_POINT) that kills it; disk_full_test
// runs it on a small tmpfs (reserve=none lets RocksDB itself meet the full disk).
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>

#include "core/journal/journal.h"

namespace {

void say(const std::string& line) {
  std::string l = line + "\n";  // one write() per line: whole lines on the pipe
  if (::write(1, l.data(), l.size()) < 0) _exit(4);
}

spr::journal::AppendBatch makeBatch(std::mt19937_64& rng) {
  spr::journal::AppendBatch batch;
  const int k = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < k; ++i) {
    spr::journal::Record r;
    std::string name = "obj" + std::to_string(rng() % 5);
    r.object = {"onboarding", "crossplane.services.open-control-plane.io", "v1alpha1", "Crossplane", "ns", name, ""};
    r.tenant = "tenant-" + std::to_string(rng() % 3);
    std::string pad(50 + rng() % 2000, static_cast<char>('a' + rng() % 26));
    r.payload = spr::journal::Observed{"onboarding", spr::journal::WatchType::kModified, R"({"pad":")" + pad + R"("})",
                                       std::to_string(i) + "/" + std::to_string(k), 1};
    batch.records.push_back(std::move(r));
  }
  batch.sync = spr::journal::Sync::kSync;
  return batch;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: journal_crash_writer DIR SEED [BATCHES [drop]]\n");
    return 2;
  }
  spr::journal::Options options;
  if (argc > 4 && std::string(argv[4]) == "reserve=none") {
    options.reserveBytes = spr::journal::Options::kNoReserve;
  } else if (argc > 4 && std::string(argv[4]).rfind("reserve=", 0) == 0) {
    options.reserveBytes = std::stoull(argv[4] + 8);
  }
  auto journal = spr::journal::Journal::open(argv[1], options);
  if (!journal) {
    std::fprintf(stderr, "open: %s\n", journal.status().toString().c_str());
    return 3;
  }
  say("open " + std::to_string((*journal)->nextSeq()));
  std::mt19937_64 rng(std::stoull(argv[2]));
  const long batches = argc > 3 ? std::stol(argv[3]) : 1000000;
  const bool drop = argc > 4 && std::string(argv[4]) == "drop";
  for (long n = 0; n < batches; ++n) {
    spr::journal::AppendBatch batch = makeBatch(rng);
    const uint64_t first = (*journal)->nextSeq();
    batch.states = {{"writer/last", std::to_string(first + batch.records.size() - 1)}};
    auto seqs = (*journal)->append(std::move(batch));
    if (!seqs) {
      std::fprintf(stderr, "append: %s\n", seqs.status().toString().c_str());
      return 3;
    }
    say("ok " + std::to_string(seqs->front()) + " " + std::to_string(seqs->back()));
    if (drop && n % 8 == 7) {
      spr::Status dropped = (*journal)->dropBefore(seqs->front());
      if (dropped.isOk()) dropped = (*journal)->compactStorage();
      if (!dropped.isOk()) {
        std::fprintf(stderr, "drop: %s\n", dropped.toString().c_str());
        return 3;
      }
    }
  }
  return 0;
}
