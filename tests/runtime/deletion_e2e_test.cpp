// Deletion blocking end to end (issue 12 item 1), against the in-process local API server
// with the real crossplane provider: a user's Object on the MCP holds the request's
// deletion (DeletionBlocked / UserResourcesPresent, an Event, nothing deleted); once the
// Object is gone the request finishes deleting, and `spr replay` replays it all.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>

#include "core/journal/journal.h"
#include "runtime/operator.h"
#include "tests/runtime/e2e_env.h"
#include "tests/support/paths.h"
#include "tests/support/run_command.h"

namespace spr::runtime {
namespace {

using nlohmann::json;
using testing::E2E;
using testing::eventually;

const k8s::GroupVersionResource kObjects{"kubernetes.crossplane.io", "v1alpha2", "objects", false};
const k8s::GroupVersionResource kEvents{"", "v1", "events", true};

std::string testName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

json condition(const json& obj, const std::string& type) {
  if (!obj.is_object() || !obj.contains("status")) return json::object();
  for (const auto& c : obj["status"].value("conditions", json::array()))
    if (c.value("type", "") == type) return c;
  return json::object();
}

std::unique_ptr<k8s::Client> mcpOf(E2E& env, const std::string& ns, const std::string& name,
                                   std::unique_ptr<k8s::Transport>* holder) {
  std::string cluster;
  EXPECT_TRUE(eventually([&] {
    auto cr = env.platform->get(testing::kClusterRequests, k8s::mcpNamespace(ns, name), name);
    if (cr.isOk()) cluster = (*cr).value("status", json::object()).value("cluster", json::object()).value("name", "");
    return !cluster.empty();
  }));
  auto cfg = k8s::parseKubeconfig(env.simServer->kubeconfigYaml(), cluster, "test");
  EXPECT_TRUE(cfg.isOk()) << cfg.status().toString();
  return cfg.isOk() ? env.client(*cfg, holder) : nullptr;
}

json userObject(const std::string& name) {
  return {{"apiVersion", "kubernetes.crossplane.io/v1alpha2"},
          {"kind", "Object"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"forProvider",
             {{"manifest",
               {{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"name", name}, {"namespace", "default"}}}}}}}}}};
}

// The phases the journal's Transitions of ns/name went through, in order (no repeats).
std::vector<std::string> phasesOf(const std::string& journalDir, const std::string& ns, const std::string& name) {
  std::vector<std::string> out;
  auto j = journal::Journal::openForReading(journalDir);
  EXPECT_TRUE(j.isOk()) << j.status().toString();
  if (!j.isOk()) return out;
  (void)(*j)->scan(1, [&](const journal::Record& r) {
    const auto* t = std::get_if<journal::Transition>(&r.payload);
    if (t && !t->rejected && r.object.ns == ns && r.object.name == name && (out.empty() || out.back() != t->to))
      out.push_back(t->to);
    return true;
  });
  return out;
}

TEST(DeletionE2E, UserObjectOnTheMcpBlocksDeletionUntilItIsDeleted) {
  E2E env(testName());
  env.createConfig();
  auto op = testing::startOperator(env);
  ASSERT_TRUE(op);
  const std::string ns = "project-b--ws-1", name = "mcp-1";
  env.createRequest(ns, name);
  // provider-kubernetes brings the Object kind (the seed's DomainServiceAPI) users create.
  ASSERT_TRUE(
      env.onboarding
          ->mergePatch(
              env.api, ns, name,
              {{"spec", {{"providers", json::array({{{"name", "provider-kubernetes"}, {"version", "v1.2.1"}}})}}}})
          .isOk());
  ASSERT_TRUE(eventually([&] { return env.isReady(ns, name); })) << env.get(ns, name).dump();
  std::unique_ptr<k8s::Transport> holder;
  auto mcp = mcpOf(env, ns, name, &holder);
  ASSERT_TRUE(mcp);
  for (const char* obj : {"team-db", "team-cache"})
    ASSERT_TRUE(mcp->create(kObjects, "", userObject(obj)).isOk()) << obj;

  ASSERT_TRUE(env.onboarding->remove(env.api, ns, name).isOk());
  ASSERT_TRUE(eventually([&] { return condition(env.get(ns, name), "DeletionBlocked").value("status", "") == "True"; }))
      << env.get(ns, name).dump();
  json obj = env.get(ns, name);
  json blocked = condition(obj, "DeletionBlocked");
  EXPECT_EQ(blocked.value("reason", ""), "UserResourcesPresent");
  const std::string message = blocked.value("message", "");
  EXPECT_NE(message.find("2 Object (objects.kubernetes.crossplane.io): team-cache, team-db"), std::string::npos)
      << message;
  EXPECT_NE(message.find("kubectl delete objects.kubernetes.crossplane.io"), std::string::npos) << message;
  EXPECT_EQ(obj["status"].value("phase", ""), "Terminating");
  EXPECT_TRUE(mcp->get(testing::kNamespaces, "", "crossplane-system").isOk()) << "nothing is deleted while blocked";
  EXPECT_EQ(op->effectsRun(lifecycle::Op::kDelete), 0u);
  // One Warning Event says why, however often the check repeats.
  ASSERT_TRUE(eventually([&] { return op->effectsRun(lifecycle::Op::kCheckDeletion) >= 3; }));
  auto events = env.onboarding->list(kEvents, ns);
  ASSERT_TRUE(events.isOk()) << events.status().toString();
  int blockedEvents = 0;
  for (const auto& e : (*events)["items"])
    if (e.value("reason", "") == "DeletionBlocked") {
      ++blockedEvents;
      EXPECT_EQ(e.value("type", ""), "Warning");
      EXPECT_NE(e.value("message", "").find("team-db"), std::string::npos) << e.dump();
    }
  EXPECT_EQ(blockedEvents, 1) << events->dump();

  // The user deletes one: the message follows; deletes the other: deletion proceeds.
  ASSERT_TRUE(mcp->remove(kObjects, "", "team-db").isOk());
  ASSERT_TRUE(eventually([&] {
    return condition(env.get(ns, name), "DeletionBlocked").value("message", "").find("1 Object") != std::string::npos;
  })) << env.get(ns, name).dump();
  ASSERT_TRUE(mcp->remove(kObjects, "", "team-cache").isOk());
  ASSERT_TRUE(eventually([&] { return env.get(ns, name).is_null(); })) << env.get(ns, name).dump();
  EXPECT_TRUE(eventually([&] {
    auto gone = mcp->get(testing::kNamespaces, "", "crossplane-system");
    return !gone.isOk() && gone.status().code() == Code::kNotFound;
  })) << "the service was not removed";
  op->requestStop();
  ASSERT_TRUE(op->wait().isOk());

  const std::string journalDir = env.dir + "/journal";
  std::vector<std::string> phases = phasesOf(journalDir, ns, name);
  auto at = std::find(phases.begin(), phases.end(), "DeletionBlocked");
  ASSERT_NE(at, phases.end()) << ::testing::PrintToString(phases);
  EXPECT_NE(std::find(at, phases.end(), "Deleted"), phases.end()) << ::testing::PrintToString(phases);
  int status = 0;
  std::string timeline = spr::testing::runCommand(
      spr::testing::sprBinary() + " replay --journal " + journalDir + " --object " + ns + "/" + name + " --timeline",
      &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << timeline;
  EXPECT_NE(timeline.find("DeletionBlocked"), std::string::npos) << timeline;
  EXPECT_NE(timeline.find("CheckDeletion"), std::string::npos) << timeline;
  std::string replayed =
      spr::testing::runCommand(spr::testing::sprBinary() + " replay --journal " + journalDir, &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << replayed;
  EXPECT_NE(replayed.find("no divergence"), std::string::npos) << replayed;
  std::string audit = spr::testing::runCommand(
      spr::testing::sprBinary() + " audit --journal " + journalDir + " --tenant " + ns, &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << audit;
  EXPECT_NE(audit.find("DeletionBlocked"), std::string::npos) << audit;
}

}  // namespace
}  // namespace spr::runtime
