// spr's entry point: picks the subcommand and hands it the remaining arguments.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const spr::cli::Args&);
  const char* summary;
};

const Command kCommands[] = {
    {"run", spr::cli::cmdRun, "run the service-provider operator against clusters"},
    {"init", spr::cli::cmdInit, "install the provider's CRDs (openmcp-operator init job)"},
    {"demo", spr::cli::cmdDemo, "run the whole product on this machine, with sample requests"},
    {"sim", spr::cli::cmdSim, "serve local Kubernetes API clusters (onboarding, platform, ...)"},
    {"validate", spr::cli::cmdValidate, "run the service-provider validation flow"},
    {"replay", spr::cli::cmdReplay, "replay a journal through this build, with no cluster"},
    {"audit", spr::cli::cmdAudit, "show one tenant's lifecycle history, verified"},
    {"journal", spr::cli::cmdJournal, "inspect a journal: verify, stats, export, compact"},
};

void printHelp(std::FILE* out) {
  std::fprintf(out,
               "spr %s — an event-sourced service-provider runtime for openMCP\n\n"
               "usage: spr COMMAND [flags]\n\ncommands:\n",
               SPR_VERSION);
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nRun 'spr COMMAND --help' for the flags of one command.\n"
               "Exit codes: 0 success; 1 a failed check or a failure at run time; 2 bad input (flags, files);\n"
               "3 (spr audit) the journal failed verification.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    printHelp(stderr);
    return 2;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    printHelp(stdout);
    return 0;
  }
  if (name == "--version" || name == "version") {
    std::printf("spr %s\n", SPR_VERSION);
    return 0;
  }
  spr::cli::Args args(argv + 2, argv + argc);
  for (const auto& c : kCommands) {
    if (name == c.name) return c.run(args);
  }
  std::fprintf(stderr, "spr: unknown command '%s'; run 'spr --help' for the list\n", name.c_str());
  return 2;
}
