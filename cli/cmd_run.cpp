// `spr run`: the operator. Resolves cluster access (kubeconfig FILE[#context] flags, or
// as openmcp-operator deploys it: in-cluster = platform, onboarding via a ClusterRequest
// + AccessRequest), runs runtime::Operator until SIGTERM/SIGINT (drain, exit 0) or a
// fatal error (exit 1). Exit 2 for bad flags.
#include <pthread.h>

#include <openssl/evp.h>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/k8s/config.h"
#include "cli/commands.h"
#include "cli/scenario.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/memory.h"
#include "replay/compact.h"
#include "runtime/metrics.h"
#include "runtime/operator.h"

namespace spr::cli {
namespace {

int failRun(int code, const std::string& message) {
  std::fprintf(stderr, "spr run: %s\n", message.c_str());
  return code;
}

// An RFC 1123 label, as Kubernetes namespace names are.
bool isNamespaceName(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

// An RFC 1123 subdomain, as the names of cluster-scoped objects such as a ProviderConfig are.
bool isObjectName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (std::size_t start = 0; start <= s.size();) {
    std::size_t dot = s.find('.', start);
    if (dot == std::string::npos) dot = s.size();
    std::string label = s.substr(start, dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    start = dot + 1;
  }
  return true;
}

void defineFlags(Flags& flags) {
  flags.addString("provider-name", "the provider's name, e.g. crossplane");
  flags.addString("provider-config-name",
                  "the cluster-scoped ProviderConfig spr reads, e.g. default (default: the provider name)", "");
  flags.addString("onboarding-kubeconfig",
                  "FILE or FILE#context for the onboarding cluster (default: via ClusterRequest)");
  flags.addString("platform-kubeconfig", "FILE or FILE#context for the platform cluster (default: in-cluster)");
  flags.addString("journal", "journal directory, created if missing (default $SPR_JOURNAL, else /var/lib/spr/journal)",
                  "");
  flags.addInt("workers", "objects reconciled in parallel", 8);
  flags.addString("metrics-bind-address", "Prometheus /metrics listen address, e.g. :8080 (0 = off)", "0");
  flags.addString("health-probe-bind-address", "/healthz and /readyz listen address, e.g. :8081 (\"\" = off)", "");
  flags.addBool("leader-elect", "hold a coordination.k8s.io Lease before acting");
  flags.addString("leader-election-namespace", "namespace of the Lease on the platform cluster", "default");
  flags.addString("leader-election-id", "name of the Lease (default spr-<provider-name>)", "");
  flags.addString("pod-namespace",
                  "spr's namespace on the platform cluster, where the ConfigMaps a ProviderConfig's caBundleRef "
                  "names live (default $POD_NAMESPACE, else default)",
                  "");
  flags.addInt("rate-limit-qps", "global provider-effect rate limit", 100);
  flags.addInt("rate-limit-burst", "global provider-effect burst", 200);
  flags.addString("delay-scale", "multiply the fold's backoff/requeue delays (testing)", "1");
  // Appended by openmcp-operator; accepted.
  flags.addString("environment", "openMCP environment name (accepted)", "");
  flags.addString("verbosity", "log level: DEBUG, INFO, WARN, ERROR", "INFO");
  flags.addBool("metrics-secure", "serve /metrics over HTTPS (self-signed unless --metrics-cert-path is given)");
  flags.addString("metrics-auth",
                  "with --metrics-secure, who may scrape: \"kubernetes\" = a bearer token that a TokenReview "
                  "authenticates and a SubjectAccessReview allows (get on the path, e.g. /metrics) on the platform "
                  "cluster; \"none\" = anyone who reaches the port",
                  "kubernetes");
  flags.addString("metrics-cert-path", "directory holding the metrics server certificate and key", "");
  flags.addString("metrics-cert-name", "certificate file name in --metrics-cert-path", "tls.crt");
  flags.addString("metrics-cert-key", "key file name in --metrics-cert-path", "tls.key");
  flags.addString("journal-retention-age",
                  "compact (archive) journal history older than this, e.g. 24h, 90m, 7d (0 = no age limit)", "7d");
  flags.addString("journal-retention-size",
                  "compact the oldest quarter of the journal when its directory exceeds this, e.g. 2Gi (0 = no limit)",
                  "1Gi");
  flags.addString("journal-archive-dir",
                  "where compaction writes archives (spr audit/replay read them); \"none\" = drop history "
                  "instead (default <journal>-archive)",
                  "");
  flags.addString("journal-archive-max-size",
                  "remove the oldest archives beyond this total, e.g. 2Gi (0 = keep all: ship them elsewhere)", "1Gi");
}

// --journal-retention-* and --journal-archive-*: validated here, run by runtime::Retention.
Status fillRetention(const Flags& flags, runtime::OperatorOptions& options) {
  runtime::RetentionOptions& r = options.retention;
  auto age = runtime::parseRetentionAge("journal-retention-age", flags.getString("journal-retention-age"));
  if (!age) return age.status();
  auto size = runtime::parseRetentionSize("journal-retention-size", flags.getString("journal-retention-size"));
  if (!size) return size.status();
  auto cap = runtime::parseRetentionSize("journal-archive-max-size", flags.getString("journal-archive-max-size"));
  if (!cap) return cap.status();
  r.maxAgeSeconds = *age;
  r.maxJournalBytes = *size;
  r.maxArchiveBytes = *cap;
  std::string dir = flags.getString("journal-archive-dir");
  if (dir.empty()) dir = options.journalDir + "-archive";
  if (dir == "none") dir.clear();
  if (!dir.empty() && (dir == options.journalDir || dir.rfind(options.journalDir + "/", 0) == 0))
    return Status(Code::kInvalidArgument, "--journal-archive-dir " + dir +
                                              " is inside the journal directory; give a directory beside it, e.g. " +
                                              options.journalDir + "-archive");
  r.archiveDir = dir;
  r.compact = [](journal::Journal& j, int64_t before, const std::string& archive) {
    auto done = replay::compactJournal(j, before, archive);
    return done.status();
  };
  return Status();
}

Status bad(const std::string& message) { return Status(Code::kInvalidArgument, message); }

// DEBUG, INFO, WARN(ING), ERROR in any case, or openmcp-operator's numeric verbosity.
bool knownVerbosity(std::string value) {
  for (char& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (value == "DEBUG" || value == "INFO" || value == "WARN" || value == "WARNING" || value == "ERROR") return true;
  return !value.empty() && value.size() < 4 && value.find_first_not_of("0123456789") == std::string::npos;
}

Status checkBindAddress(const std::string& flag, const std::string& value) {
  if (value.empty() || value == "0") return Status();
  std::string host;
  int port = 0;
  Status parsed = runtime::parseBindAddress(value, &host, &port);
  return parsed.isOk() ? parsed : bad("--" + flag + ": " + parsed.message());
}

Status checkFlags(const Flags& flags) {
  if (!knownVerbosity(flags.getString("verbosity")))
    return bad("--verbosity \"" + flags.getString("verbosity") +
               "\" is not a log level; use DEBUG, INFO, WARN or ERROR");
  if (flags.given("journal") && flags.getString("journal").empty())
    return bad("--journal is empty; give a directory, or leave the flag out for $SPR_JOURNAL or /var/lib/spr/journal");
  if (flags.getInt("rate-limit-qps") < 1)
    return bad("--rate-limit-qps must be at least 1 (provider effects per second), got " +
               flags.getString("rate-limit-qps"));
  if (flags.getInt("rate-limit-burst") < 1)
    return bad("--rate-limit-burst must be at least 1, got " + flags.getString("rate-limit-burst"));
  if (flags.getInt("workers") < 1 || flags.getInt("workers") > 1024)
    return bad("--workers must be from 1 to 1024, got " + flags.getString("workers"));
  SPR_RETURN_IF_ERROR(checkBindAddress("metrics-bind-address", flags.getString("metrics-bind-address")));
  SPR_RETURN_IF_ERROR(checkBindAddress("health-probe-bind-address", flags.getString("health-probe-bind-address")));
  const std::string scale = flags.getString("delay-scale");
  char* end = nullptr;
  double value = std::strtod(scale.c_str(), &end);
  if (scale.empty() || *end != '\0' || !std::isfinite(value) || value <= 0)
    return bad("--delay-scale must be a positive number, e.g. 0.1; got \"" + scale + "\"");
  return Status();
}

Status fillOptions(const Flags& flags, runtime::OperatorOptions& options) {
  SPR_RETURN_IF_ERROR(checkFlags(flags));
  options.providerName = flags.getString("provider-name");
  options.journalDir = flags.getString("journal");
  if (options.providerName.empty()) return bad("--provider-name NAME is required, e.g. --provider-name crossplane");
  options.providerConfigName = flags.getString("provider-config-name");
  if (options.providerConfigName.empty()) options.providerConfigName = options.providerName;
  if (!isObjectName(options.providerConfigName))
    return bad("--provider-config-name \"" + options.providerConfigName +
               "\" is not a Kubernetes object name (RFC 1123 subdomain: lowercase letters, digits, '-' and '.', "
               "starting and ending with a letter or digit, at most 253 characters), e.g. default");
  if (options.journalDir.empty()) {
    // openmcp-operator passes no --journal: the Deployment mounts a volume there (deploy/).
    const char* env = std::getenv("SPR_JOURNAL");
    options.journalDir = env && *env ? env : "/var/lib/spr/journal";
  }
  options.workers = static_cast<int>(flags.getInt("workers"));
  options.metricsBindAddress = flags.getString("metrics-bind-address");
  options.healthProbeBindAddress = flags.getString("health-probe-bind-address");
  options.metricsSecure = flags.getBool("metrics-secure");
  const std::string auth = flags.getString("metrics-auth");
  if (auth != "kubernetes" && auth != "none")
    return bad("--metrics-auth \"" + auth +
               "\" is not known; use kubernetes (TokenReview + SubjectAccessReview) or none");
  if (flags.given("metrics-auth") && !options.metricsSecure)
    return bad("--metrics-auth needs --metrics-secure (plain HTTP metrics carry no credentials to check)");
  options.metricsAuth = auth == "kubernetes";
  if (std::string dir = flags.getString("metrics-cert-path"); !dir.empty()) {
    if (!options.metricsSecure) return bad("--metrics-cert-path needs --metrics-secure");
    options.metricsCertFile = dir + "/" + flags.getString("metrics-cert-name");
    options.metricsKeyFile = dir + "/" + flags.getString("metrics-cert-key");
  }
  options.leaderElect = flags.getBool("leader-elect");
  options.leaderElectionNamespace = flags.getString("leader-election-namespace");
  options.leaderElectionId = flags.getString("leader-election-id");
  options.podNamespace = flags.getString("pod-namespace");
  if (options.podNamespace.empty()) {
    const char* ns = std::getenv("POD_NAMESPACE");
    options.podNamespace = ns && *ns ? ns : "default";
  }
  if (!isNamespaceName(options.podNamespace))
    return bad("--pod-namespace (or $POD_NAMESPACE) '" + options.podNamespace +
               "' is not a namespace name (lowercase letters, digits and '-', at most 63); give spr's own namespace");
  options.rateLimitQps = static_cast<double>(flags.getInt("rate-limit-qps"));
  options.rateLimitBurst = static_cast<int>(flags.getInt("rate-limit-burst"));
  options.delayScale = std::strtod(flags.getString("delay-scale").c_str(), nullptr);
  return fillRetention(flags, options);
}

// What the ProcessStarted record says about this process: flag names, and a digest of
// the whole command line (values may be secrets: they are only hashed, never stored).
void describeProcess(const Args& args, runtime::OperatorOptions& options) {
  std::string all, names;
  for (const auto& a : args) {
    all += a;
    all.push_back('\0');
    if (a.rfind("--", 0) != 0) continue;
    std::string name = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
    names += (names.empty() ? "" : ",") + name;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string hex;
  if (EVP_Digest(all.data(), all.size(), md, &len, EVP_sha256(), nullptr) == 1) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
      hex.push_back(kDigits[md[i] >> 4]);
      hex.push_back(kDigits[md[i] & 0xf]);
    }
  }
  options.version = SPR_VERSION;
#ifdef NDEBUG
  options.build = std::string("gcc ") + __VERSION__ + ", release";
#else
  options.build = std::string("gcc ") + __VERSION__ + ", debug";
#endif
  options.flagsDigest = hex;
  options.flagNames = names;
}

// SIGTERM/SIGINT from the first moment: blocked in every thread, one thread sigwait()s.
// Until an operator is attached (after its start()) a signal only sets the flag, which
// start-up polls; afterwards it calls requestStop(). Thread-safe.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      int sig = 0;
      sigwait(&set_, &sig);
      std::lock_guard<std::mutex> lock(mu_);
      requested_ = !done_;
      if (requested_) log::info("stop requested", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      if (requested_ && op_) op_->requestStop();
    });
  }
  ~StopSignals() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      op_ = nullptr;
    }
    pthread_kill(thread_.native_handle(), SIGTERM);  // wake the thread if it still waits
    thread_.join();
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool requested() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requested_;
  }
  // From now on a signal stops `op`; one that came already stops it at once.
  void attach(runtime::Operator* op) {
    std::lock_guard<std::mutex> lock(mu_);
    op_ = op;
    if (requested_ && op_) op_->requestStop();
  }

 private:
  sigset_t set_;
  std::thread thread_;
  mutable std::mutex mu_;
  bool requested_ = false;           // guarded by mu_
  bool done_ = false;                // guarded by mu_
  runtime::Operator* op_ = nullptr;  // guarded by mu_
};

}  // namespace

int cmdRun(const Args& args) {
  memory::configureForLongRun();  // before any thread allocates
  Flags flags("spr run", "run the service-provider operator");
  defineFlags(flags);
  if (auto done = parseCommandLine(flags, args)) return *done;
  runtime::OperatorOptions options;
  Status filled = fillOptions(flags, options);
  if (!filled.isOk()) return failRun(2, filled.message());
  log::configure(log::parseLevel(flags.getString("verbosity")), true);
  describeProcess(args, options);
  auto provider = providers::makeProvider(options.providerName);
  if (!provider) return failRun(2, "unknown provider \"" + options.providerName + "\"; built in: crossplane, template");
  StopSignals signals;
  ClusterFlags clusterFlags{flags.getString("onboarding-kubeconfig"), flags.getString("platform-kubeconfig"),
                            options.leaderElectionNamespace, options.providerName,
                            [&signals] { return signals.requested(); }};
  Status clusters = resolveClusters(clusterFlags, options.onboarding, options.platform);
  if (signals.requested()) return 0;
  if (!clusters.isOk()) return failRun(clusters.code() == Code::kInvalidArgument ? 2 : 1, clusters.toString());
  options.stopRequested = [&signals] { return signals.requested(); };
  auto op = runtime::Operator::create(std::move(options), std::move(provider));
  if (!op) return failRun(2, op.status().message());
  runtime::Operator* raw = op->get();
  Status started = raw->start();
  signals.attach(raw);
  if (!started.isOk())
    return failRun(started.code() == Code::kInvalidArgument ? 2 : 1, "cannot start: " + started.toString());
  Status stopped = raw->wait();
  signals.attach(nullptr);
  if (!stopped.isOk()) return failRun(1, "stopped: " + stopped.toString());
  return 0;
}

}  // namespace spr::cli
