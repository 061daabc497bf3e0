// Regenerates the scenario journal the checked-in bundles (tests/replay/bundles/) were
// exported from — a tool, not a test:
//   write_scenario_journal /tmp/j && spr journal export --journal /tmp/j --object NS/NAME --out X
#include <cstdio>

#include "tests/replay/journal_maker.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_scenario_journal DIR   (DIR must not exist yet)\n");
    return 2;
  }
  spr::replay::testing::writeScenarioJournal(argv[1]);
  std::printf("scenario journal written to %s\n", argv[1]);
  return 0;
}
