// `spr sim`: the local API server. Serves each cluster at https://ADDR/clusters/<name>
// over TLS (CA generated at start), writes a kubeconfig with one context per cluster,
// prints the address and runs until SIGTERM/SIGINT. Exit codes: 0 after a signal,
// 1 the server failed, 2 bad flags. Fault flags mirror POST /admin/faults.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "common/flags.h"
#include "sim/server.h"

namespace spr::cli {
namespace {

int fail(const std::string& message, int code = 2) {
  std::fprintf(stderr, "spr sim: %s\n", message.c_str());
  return code;
}

std::vector<std::string> splitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// A rate flag: a number in [0, 1].
Status parseRate(const Flags& flags, const std::string& name, double& out) {
  std::string v = flags.getString(name);
  char* end = nullptr;
  out = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(out >= 0 && out <= 1))  // NaN fails both
    return Status(Code::kInvalidArgument, "--" + name + " \"" + v + "\": give a number between 0 and 1, e.g. 0.1");
  return Status();
}

// Written whole to a temporary file, then renamed: a reader (`until [ -s FILE ]`, kubectl)
// never sees a partial kubeconfig.
Status writeFile(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  // 0600: the kubeconfig holds bearer tokens.
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return Status(Code::kIoError,
                  "cannot write --kubeconfig-out " + path + ": check the directory exists and is writable");
  ssize_t n = ::write(fd, content.data(), content.size());
  ::fchmod(fd, 0600);
  ::close(fd);
  if (n != static_cast<ssize_t>(content.size()) || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status(Code::kIoError, "cannot write --kubeconfig-out " + path + " (short write or rename failed)");
  }
  return Status();
}

void defineFlags(Flags& flags) {
  flags.addString("kubeconfig-out", "write the kubeconfig (one context per cluster) to FILE (required)");
  flags.addString("listen", "HOST:PORT to listen on; port 0 picks a free one", "127.0.0.1:0");
  flags.addString("clusters", "comma-separated cluster names", "onboarding,platform,workload");
  flags.addInt("deployment-ready-delay-ms", "a Deployment becomes Available this long after create/update", 1000);
  flags.addInt("bookmark-interval-ms", "interval of watch bookmarks", 1000);
  flags.addString("fault-error-rate", "share of requests answered 500/503/429 (0..1)", "0");
  flags.addInt("fault-latency-ms", "latency added to every request", 0);
  flags.addString("fault-watch-drop-rate", "chance per second that a watch connection is closed (0..1)", "0");
  flags.addBool("fault-expire-rvs", "watches resuming from any older resourceVersion get 410 Gone");
}

}  // namespace

int cmdSim(const Args& args) {
  Flags flags("spr sim",
              "serve local Kubernetes API clusters; admin: POST /admin/faults with the first cluster's token");
  defineFlags(flags);
  if (auto done = parseCommandLine(flags, args)) return *done;
  Status s;
  std::string out = flags.getString("kubeconfig-out");
  if (out.empty()) return fail("--kubeconfig-out FILE is required (where to write the kubeconfig)");
  sim::SimOptions options;
  options.listen = flags.getString("listen");
  options.clusters = splitCommas(flags.getString("clusters"));
  options.deploymentReadyDelayMs = flags.getInt("deployment-ready-delay-ms");
  options.bookmarkIntervalMs = flags.getInt("bookmark-interval-ms");
  if (options.bookmarkIntervalMs <= 0) return fail("--bookmark-interval-ms must be positive");
  if (!(s = parseRate(flags, "fault-error-rate", options.faults.errorRate)).isOk()) return fail(s.message());
  if (!(s = parseRate(flags, "fault-watch-drop-rate", options.faults.watchDropRate)).isOk()) return fail(s.message());
  options.faults.latencyMs = flags.getInt("fault-latency-ms");
  options.faults.expireResourceVersions = flags.getBool("fault-expire-rvs");

  // Block the signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = sim::SimServer::start(options);
  if (!server) return fail(server.status().message(), server.status().code() == Code::kInvalidArgument ? 2 : 1);
  if (!(s = writeFile(out, (*server)->kubeconfigYaml())).isOk()) return fail(s.message(), 1);
  std::printf("spr sim: serving at %s (clusters:", (*server)->baseUrl().c_str());
  for (const auto& c : (*server)->clusterNames()) std::printf(" %s", c.c_str());
  std::printf("); kubeconfig written to %s\n", out.c_str());
  std::fflush(stdout);
  // Until a signal: keep the kubeconfig current as the cluster provider adds MCP clusters,
  // so `kubectl --context <cluster>` reaches them too.
  int sig = -1;
  size_t known = (*server)->clusterNames().size();
  const timespec tick{1, 0};
  while ((sig = sigtimedwait(&signals, nullptr, &tick)) < 0) {
    auto names = (*server)->clusterNames();
    if (names.size() == known) continue;
    known = names.size();
    if (!(s = writeFile(out, (*server)->kubeconfigYaml())).isOk())
      std::fprintf(stderr, "spr sim: %s\n", s.message().c_str());
    std::printf("spr sim: %zu clusters now (newest: %s); kubeconfig %s updated\n", names.size(), names.back().c_str(),
                out.c_str());
    std::fflush(stdout);
  }
  std::printf("spr sim: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  (*server)->stop();
  return 0;
}

}  // namespace spr::cli
