// `spr demo`: the whole product on one machine. Starts the local API server in-process,
// installs the crossplane provider's CRDs and a ProviderConfig, creates MCPs and requests
// for two tenants (one asking for a provider that is not offered), runs the operator with
// a live progress view, repairs a hand-made drift, deletes one request, and prints where
// the journal is. Exit 0 only when every step happened as expected.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "adapters/k8s/config.h"
#include "cli/commands.h"
#include "cli/demo_steps.h"
#include "common/flags.h"
#include "common/log.h"

namespace spr::cli {
namespace {

namespace fs = std::filesystem;

std::string defaultJournalDir() {
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return (fs::temp_directory_path() / ("spr-demo-" + std::string(stamp) + "-" + std::to_string(::getpid()))).string();
}

// The demo starts from an empty journal: an existing non-empty DIR is refused, not mixed in.
Status prepareJournalDir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return Status(Code::kInvalidArgument,
                  "--journal " + dir + " is not empty; the demo writes a fresh journal: pass a new directory");
  fs::create_directories(dir, ec);
  if (ec) return Status(Code::kInvalidArgument, "cannot create --journal " + dir + ": " + ec.message());
  return Status();
}

// This binary as the user can type it: relative to the working directory when below it.
std::string selfPath() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "spr";
  fs::path relative = self.lexically_relative(fs::current_path(ec));
  if (!ec && !relative.empty() && *relative.begin() != "..") return relative.string();
  return self.string();
}

void printNextSteps(const std::string& journal, const std::string& logFile) {
  const std::string spr = selfPath();
  const std::string object = kDemoTenantA + "/mcp-1";
  std::printf("\nThe journal is in %s (operator log: %s). Try:\n", journal.c_str(), logFile.c_str());
  for (const std::string& args :
       {"journal verify --journal " + journal, "journal stats --journal " + journal, "replay --journal " + journal,
        "replay --journal " + journal + " --object " + object + " --timeline",
        "audit --journal " + journal + " --tenant " + kDemoTenantA})
    std::printf("  %s %s\n", spr.c_str(), args.c_str());
}

}  // namespace

int cmdDemo(const Args& args) {
  Flags flags("spr demo", "run the local API server, the crossplane provider and sample requests");
  flags.addString("journal", "journal directory (default: a new directory under $TMPDIR)", "");
  flags.addInt("workers", "objects reconciled in parallel", 4);
  if (auto done = parseCommandLine(flags, args)) return *done;
  std::string journal = flags.getString("journal");
  if (journal.empty()) journal = defaultJournalDir();
  journal = fs::absolute(journal).lexically_normal().string();
  Status prepared = prepareJournalDir(journal);
  if (!prepared.isOk()) {
    std::fprintf(stderr, "spr demo: %s\n", prepared.message().c_str());
    return 2;
  }
  std::string logFile = journal + ".log";
  if (!log::logToFile(logFile)) logFile = "stderr";
  std::printf("spr demo: journal %s\n", journal.c_str());
  DemoRun demo(journal, static_cast<int>(flags.getInt("workers")));
  Status result = demo.run();
  demo.shutdown();
  if (!result.isOk()) {
    std::printf("\nspr demo FAILED: %s\n", result.message().c_str());
    printNextSteps(journal, logFile);
    return 1;
  }
  std::printf("\nspr demo: all steps passed in %.1fs.\n", demo.elapsedSeconds());
  printNextSteps(journal, logFile);
  return 0;
}

}  // namespace spr::cli
