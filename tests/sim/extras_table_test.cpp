// Server-side printing (sim/table.h): the JSONPath subset of printer columns and the
// Table kubectl decodes.
#include <gtest/gtest.h>

#include <ctime>

#include "sim/table.h"

namespace spr::sim {
namespace {

using nlohmann::json;

json crossplaneRequest() {
  return json::parse(R"({"metadata":{"name":"mcp-1","namespace":"acme","creationTimestamp":"2020-01-01T00:00:00Z"},
    "spec":{"version":"1.20.0","providers":[{"name":"provider-kubernetes"},{"name":"provider-helm"}]},
    "status":{"phase":"Ready","conditions":[{"type":"Synced","status":"False"},{"type":"Ready","status":"True"}]}})");
}

TEST(SimTable, JsonPathSelectsFieldsIndexesFiltersAndWildcards) {
  json o = crossplaneRequest();
  EXPECT_EQ(jsonPathValues(o, ".status.phase"), std::vector<json>{"Ready"});
  EXPECT_EQ(jsonPathValues(o, "{.spec.version}"), std::vector<json>{"1.20.0"});
  EXPECT_EQ(jsonPathValues(o, ".status.conditions[?(@.type=='Ready')].status"), std::vector<json>{"True"});
  EXPECT_EQ(jsonPathValues(o, ".status.conditions[?(@.type!=\"Ready\")].type"), std::vector<json>{"Synced"});
  EXPECT_EQ(jsonPathValues(o, ".spec.providers[1].name"), std::vector<json>{"provider-helm"});
  EXPECT_EQ(jsonPathValues(o, ".spec.providers[-1].name"), std::vector<json>{"provider-helm"});
  EXPECT_EQ(jsonPathValues(o, ".spec.providers[*].name"), (std::vector<json>{"provider-kubernetes", "provider-helm"}));
  EXPECT_TRUE(jsonPathValues(o, ".status.missing").empty());
  EXPECT_TRUE(jsonPathValues(o, ".spec.providers[9].name").empty());
  EXPECT_TRUE(jsonPathValues(o, "status phase").empty()) << "not a path: nothing, never a crash";
}

TEST(SimTable, AcceptHeaderOfKubectlAsksForATable) {
  EXPECT_TRUE(
      wantsTable("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
                 "g=meta.k8s.io,application/json"));
  EXPECT_FALSE(wantsTable("application/json"));
  EXPECT_FALSE(wantsTable(""));
}

TEST(SimTable, RowsHoldNameThenThePrinterColumnsAndMetadataOnly) {
  json o = crossplaneRequest();
  TableOptions options;
  options.printerColumns = json::parse(R"([{"name":"Version","type":"string","jsonPath":".spec.version"},
    {"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type=='Ready')].status"},
    {"name":"Providers","type":"string","jsonPath":".spec.providers[*].name"},
    {"name":"Missing","type":"string","jsonPath":".status.nothing"},
    {"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}])");
  json table = toTable({&o}, {{"resourceVersion", "42"}}, options);
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(table["metadata"]["resourceVersion"], "42");
  ASSERT_EQ(table["columnDefinitions"].size(), 6u);
  EXPECT_EQ(table["columnDefinitions"][0]["format"], "name");
  const json& cells = table["rows"][0]["cells"];
  EXPECT_EQ(cells[0], "mcp-1");
  EXPECT_EQ(cells[1], "1.20.0");
  EXPECT_EQ(cells[2], "True");
  EXPECT_EQ(cells[3], "provider-kubernetes,provider-helm");
  EXPECT_TRUE(cells[4].is_null());
  EXPECT_NE(cells[5].get<std::string>().find('y'), std::string::npos) << cells[5] << ": years since 2020";
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_FALSE(table["rows"][0]["object"].contains("spec"));

  options.noHeaders = true;
  options.includeObject = "Object";
  json again = toTable({&o}, json::object(), options);
  EXPECT_FALSE(again.contains("columnDefinitions"));
  EXPECT_EQ(again["rows"][0]["object"]["spec"]["version"], "1.20.0");
}

TEST(SimTable, WithoutPrinterColumnsNameAndAge) {
  json o = crossplaneRequest();
  json table = toTable({&o}, json::object(), TableOptions{});
  ASSERT_EQ(table["columnDefinitions"].size(), 2u);
  EXPECT_EQ(table["columnDefinitions"][1]["name"], "Age");
}

TEST(SimTable, HumanAgeAsKubectlAbbreviatesIt) {
  EXPECT_EQ(humanAge("not a time"), "");
  EXPECT_EQ(humanAge("2000-01-01T00:00:00Z").back(), 'y');  // 8 years and more: years only
  char recent[32];
  std::time_t t = std::time(nullptr) - 150;
  std::strftime(recent, sizeof recent, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  std::string age = humanAge(recent);
  EXPECT_TRUE(age == "2m30s" || age == "2m31s") << age;
}

}  // namespace
}  // namespace spr::sim
