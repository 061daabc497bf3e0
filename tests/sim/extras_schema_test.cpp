// Unit tests of sim/schema.h (custom-object pruning, defaulting, validation and the 422
// body, checked against kube-apiserver recordings and kube's message formats) and of
// sim/openapi.h (the documents kubectl reads before it trusts server-side validation).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/openapi.h"
#include "sim/schema.h"
#include "tests/support/paths.h"

namespace spr::sim {
namespace {

using nlohmann::json;

json readRecording(const std::string& version, const std::string& file) {
  std::ifstream in(spr::testing::fixturesDir() + "/kube-apiserver-replays/" + version + "/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// Validates `object` against `schema` and returns the single cause (fails if not exactly one).
FieldCause onlyCause(json object, const json& schema) {
  ValidationResult r = validateCustomObject(object, schema);
  EXPECT_EQ(r.causes.size(), 1u) << object.dump();
  return r.causes.empty() ? FieldCause{} : r.causes[0];
}

json specSchema(const json& props, const json& required = json::array()) {
  json spec = {{"type", "object"}, {"properties", props}};
  if (!required.empty()) spec["required"] = required;
  return json{{"type", "object"}, {"properties", {{"spec", spec}}}};
}

json withSpec(const json& spec) {
  return json{{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}, {"spec", spec}};
}

// Every recorded 422 of the CRD test, in every version, is reproduced byte for byte.
TEST(SchemaRecorded, InvalidResponsesMatchEveryVersion) {
  for (const char* version : {"v1-33", "v1-34", "v1-35", "v1-36"}) {
    json exchanges = readRecording(version, "custom_resource_definition-test.json");
    json crd = json::parse(exchanges[0]["request_body"].get<std::string>());
    const json& schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    int checked = 0;
    for (const auto& e : exchanges) {
      if (e["request_method"] != "POST" || e["request_url"].get<std::string>().find("/foobars") == std::string::npos)
        continue;
      json object = json::parse(e["request_body"].get<std::string>());
      ValidationResult r = validateCustomObject(object, schema);
      EXPECT_TRUE(r.unknownFields.empty()) << version;
      if (e["response_status_code"] == 201) {
        EXPECT_TRUE(r.causes.empty()) << version << " " << e["request_body"];
        continue;
      }
      json recorded = json::parse(e["response_body"].get<std::string>());
      json ours = invalidStatus(crd["spec"]["group"], "FooBar", object["metadata"]["name"], r.causes);
      EXPECT_EQ(ours, recorded) << version << "\nours:     " << ours.dump() << "\nrecorded: " << recorded.dump();
      ++checked;
    }
    EXPECT_EQ(checked, 3) << version;
  }
}

TEST(SchemaValidate, TypesReportKubeMessages) {
  json schema = specSchema({{"s", {{"type", "string"}}},
                            {"i", {{"type", "integer"}}},
                            {"n", {{"type", "number"}}},
                            {"b", {{"type", "boolean"}}},
                            {"a", {{"type", "array"}}},
                            {"o", {{"type", "object"}}}});
  FieldCause c = onlyCause(withSpec({{"s", 5}}), schema);
  EXPECT_EQ(c.reason, "FieldValueTypeInvalid");
  EXPECT_EQ(c.field, "spec.s");
  EXPECT_EQ(c.message, "Invalid value: \"integer\": spec.s in body must be of type string: \"integer\"");
  EXPECT_EQ(onlyCause(withSpec({{"i", 1.5}}), schema).message,
            "Invalid value: \"number\": spec.i in body must be of type integer: \"number\"");
  EXPECT_EQ(onlyCause(withSpec({{"b", "yes"}}), schema).message,
            "Invalid value: \"string\": spec.b in body must be of type boolean: \"string\"");
  EXPECT_EQ(onlyCause(withSpec({{"o", json::array()}}), schema).message,
            "Invalid value: \"array\": spec.o in body must be of type object: \"array\"");
  // Integers are numbers, and integral floats are integers, as in kube-openapi.
  json ok = withSpec({{"i", 2.0}, {"n", 3}, {"s", "x"}, {"b", true}, {"a", json::array()}, {"o", json::object()}});
  EXPECT_TRUE(validateCustomObject(ok, schema).causes.empty());
}

TEST(SchemaValidate, RequiredNestedAndInArrays) {
  json item = {{"type", "object"}, {"required", {"name"}}, {"properties", {{"name", {{"type", "string"}}}}}};
  json schema = specSchema({{"list", {{"type", "array"}, {"items", item}}}, {"x", {{"type", "string"}}}}, {"x"});
  json obj = withSpec({{"list", {{{"name", "a"}}, json::object()}}});
  ValidationResult r = validateCustomObject(obj, schema);
  ASSERT_EQ(r.causes.size(), 2u);
  EXPECT_EQ(r.causes[0].field, "spec.list[1].name");
  EXPECT_EQ(r.causes[0].reason, "FieldValueRequired");
  EXPECT_EQ(r.causes[0].message, "Required value");
  EXPECT_EQ(r.causes[1].field, "spec.x");
  EXPECT_EQ(invalidStatus("example.com", "Widget", "w", r.causes)["message"],
            "Widget.example.com \"w\" is invalid: [spec.list[1].name: Required value, spec.x: Required value]");
}

TEST(SchemaValidate, EnumAndBounds) {
  json schema = specSchema({{"mode", {{"type", "string"}, {"enum", {"Fast", "Slow"}}}},
                            {"level", {{"type", "integer"}, {"enum", {1, 2}}}},
                            {"n", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}}},
                            {"x", {{"type", "number"}, {"minimum", 0.5}, {"exclusiveMinimum", true}}},
                            {"m", {{"type", "integer"}, {"multipleOf", 5}}}});
  FieldCause c = onlyCause(withSpec({{"mode", "Medium"}}), schema);
  EXPECT_EQ(c.reason, "FieldValueNotSupported");
  EXPECT_EQ(c.message, "Unsupported value: \"Medium\": supported values: \"Fast\", \"Slow\"");
  EXPECT_EQ(onlyCause(withSpec({{"level", 3}}), schema).message,
            "Unsupported value: 3: supported values: \"1\", \"2\"");
  c = onlyCause(withSpec({{"n", 0}}), schema);
  EXPECT_EQ(c.reason, "FieldValueInvalid");
  EXPECT_EQ(c.message, "Invalid value: 0: spec.n in body should be greater than or equal to 1");
  EXPECT_EQ(onlyCause(withSpec({{"n", 11}}), schema).message,
            "Invalid value: 11: spec.n in body should be less than or equal to 10");
  EXPECT_EQ(onlyCause(withSpec({{"x", 0.5}}), schema).message,
            "Invalid value: 0.5: spec.x in body should be greater than 0.5");
  EXPECT_EQ(onlyCause(withSpec({{"m", 7}}), schema).message,
            "Invalid value: 7: spec.m in body should be a multiple of 5");
  json ok = withSpec({{"mode", "Fast"}, {"level", 2}, {"n", 10}, {"x", 0.75}, {"m", 15}});
  json tenths = specSchema({{"f", {{"type", "number"}, {"multipleOf", 0.1}}}});
  json fine = withSpec({{"f", 0.3}});
  EXPECT_TRUE(validateCustomObject(fine, tenths).causes.empty());
  EXPECT_EQ(onlyCause(withSpec({{"f", 0.25}}), tenths).message,
            "Invalid value: 0.25: spec.f in body should be a multiple of 0.1");
  EXPECT_TRUE(validateCustomObject(ok, schema).causes.empty());
}

TEST(SchemaValidate, StringLengthPatternAndFormat) {
  json schema = specSchema({{"name", {{"type", "string"}, {"minLength", 3}, {"maxLength", 5}, {"pattern", "^[a-z]+$"}}},
                            {"at", {{"type", "string"}, {"format", "date-time"}}}});
  FieldCause c = onlyCause(withSpec({{"name", "toolong"}}), schema);
  EXPECT_EQ(c.reason, "FieldValueTooLong");
  EXPECT_EQ(c.message, "Too long: value is too long");
  c = onlyCause(withSpec({{"name", "ab"}}), schema);
  EXPECT_EQ(c.reason, "FieldValueInvalid");
  EXPECT_EQ(c.message, "Invalid value: \"ab\": spec.name in body should be at least 3 chars long");
  EXPECT_EQ(onlyCause(withSpec({{"name", "ABC"}}), schema).message,
            "Invalid value: \"ABC\": spec.name in body should match '^[a-z]+$'");
  EXPECT_EQ(onlyCause(withSpec({{"at", "yesterday"}}), schema).message,
            "Invalid value: \"yesterday\": spec.at in body must be of type date-time: \"yesterday\"");
  // Lengths count characters, not bytes.
  json ok = withSpec({{"name", "abc"}, {"at", "2024-01-02T03:04:05Z"}});
  EXPECT_TRUE(validateCustomObject(ok, schema).causes.empty());
  json utf8 = {{"type", "object"}, {"properties", {{"spec", {{"type", "string"}, {"maxLength", 3}}}}}};
  json accented = {{"spec", "\xc3\xa9\xc3\xa9\xc3\xa9"}};
  EXPECT_TRUE(validateCustomObject(accented, utf8).causes.empty());
}

TEST(SchemaValidate, ItemsCounts) {
  json schema =
      specSchema({{"tags", {{"type", "array"}, {"minItems", 1}, {"maxItems", 2}, {"items", {{"type", "string"}}}}}});
  FieldCause c = onlyCause(withSpec({{"tags", json::array()}}), schema);
  EXPECT_EQ(c.reason, "FieldValueInvalid");
  EXPECT_EQ(c.message, "Invalid value: 0: spec.tags in body should have at least 1 items");
  c = onlyCause(withSpec({{"tags", {"a", "b", "c"}}}), schema);
  EXPECT_EQ(c.reason, "FieldValueTooMany");
  EXPECT_EQ(c.message, "Too many: 3: has too many items");
  c = onlyCause(withSpec({{"tags", {"a", 1}}}), schema);
  EXPECT_EQ(c.field, "spec.tags[1]");
  EXPECT_EQ(c.message, "Invalid value: \"integer\": spec.tags[1] in body must be of type string: \"integer\"");
}

TEST(SchemaValidate, FormatInt32AndIntOrString) {
  json schema = specSchema(
      {{"port", {{"type", "integer"}, {"format", "int32"}}}, {"target", {{"x-kubernetes-int-or-string", true}}}});
  // kube-openapi reports a non-number against a formatted integer by its format.
  EXPECT_EQ(onlyCause(withSpec({{"port", true}}), schema).message,
            "Invalid value: \"\": spec.port in body must be of type int32: \"\"");
  EXPECT_EQ(onlyCause(withSpec({{"port", 1.5}}), schema).message,
            "Invalid value: \"float64\": spec.port in body must be of type int32: \"float64\"");
  EXPECT_EQ(onlyCause(withSpec({{"target", json::array()}}), schema).message,
            "Invalid value: \"array\": spec.target in body must be of type integer,string: \"array\"");
  json ok = withSpec({{"port", 8080}, {"target", "http"}});
  EXPECT_TRUE(validateCustomObject(ok, schema).causes.empty());
  ok = withSpec({{"target", 80}});
  EXPECT_TRUE(validateCustomObject(ok, schema).causes.empty());
}

TEST(SchemaValidate, NullsAndNullable) {
  json schema = specSchema({{"opt", {{"type", "string"}}},
                            {"nul", {{"type", "string"}, {"nullable", true}}},
                            {"list", {{"type", "array"}, {"items", {{"type", "string"}}}}}},
                           {"opt"});
  json obj = withSpec({{"opt", nullptr}, {"nul", nullptr}});
  ValidationResult r = validateCustomObject(obj, schema);
  // A null non-nullable field is dropped (then missing); a nullable one is kept.
  ASSERT_EQ(r.causes.size(), 1u);
  EXPECT_EQ(r.causes[0].field, "spec.opt");
  EXPECT_EQ(r.causes[0].reason, "FieldValueRequired");
  EXPECT_FALSE(obj["spec"].contains("opt"));
  EXPECT_TRUE(obj["spec"]["nul"].is_null());
  EXPECT_EQ(onlyCause(withSpec({{"opt", "x"}, {"list", {nullptr}}}), schema).message,
            "Invalid value: \"null\": spec.list[0] in body must be of type string: \"null\"");
}

TEST(SchemaPrune, UnknownFieldsAreRemovedAndReported) {
  json inner = {{"type", "object"}, {"properties", {{"a", {{"type", "string"}}}}}};
  json schema = specSchema({{"known", {{"type", "string"}}},
                            {"nested", inner},
                            {"items", {{"type", "array"}, {"items", inner}}},
                            {"free", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}},
                            {"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
                            {"embedded",
                             {{"type", "object"},
                              {"x-kubernetes-embedded-resource", true},
                              {"x-kubernetes-preserve-unknown-fields", true}}}});
  json obj = withSpec(
      {{"known", "k"},
       {"bogus", 1},
       {"nested", {{"a", "x"}, {"b", "y"}}},
       {"items", {{{"a", "1"}, {"zz", 2}}}},
       {"free", {{"anything", {{"deep", true}}}}},
       {"labels", {{"team", "a"}}},
       {"embedded",
        {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}}, {"data", {{"k", "v"}}}}}});
  obj["status"] = {{"phase", "x"}};
  ValidationResult r = validateCustomObject(obj, schema);
  EXPECT_TRUE(r.causes.empty());
  EXPECT_EQ(r.unknownFields, (std::vector<std::string>{"spec.bogus", "spec.items[0].zz", "spec.nested.b", "status"}));
  EXPECT_FALSE(obj["spec"].contains("bogus"));
  EXPECT_FALSE(obj["spec"]["nested"].contains("b"));
  EXPECT_FALSE(obj.contains("status"));
  EXPECT_EQ(obj["spec"]["free"]["anything"]["deep"], true);
  EXPECT_EQ(obj["spec"]["labels"]["team"], "a");
  EXPECT_EQ(obj["spec"]["embedded"]["metadata"]["name"], "c");
  EXPECT_EQ(obj["metadata"]["name"], "w");  // root apiVersion/kind/metadata are never pruned
  EXPECT_EQ(obj["kind"], "Widget");
}

TEST(SchemaPrune, AdditionalPropertiesBoolean) {
  json schema = specSchema(
      {{"open", {{"type", "object"}, {"additionalProperties", true}}},
       {"closed",
        {{"type", "object"}, {"additionalProperties", false}, {"properties", {{"a", {{"type", "string"}}}}}}}});
  json obj = withSpec({{"open", {{"x", 1}}}, {"closed", {{"a", "k"}, {"x", 1}}}});
  ValidationResult r = validateCustomObject(obj, schema);
  EXPECT_TRUE(r.causes.empty());
  EXPECT_EQ(r.unknownFields, std::vector<std::string>{"spec.closed.x"});
  EXPECT_EQ(obj["spec"]["open"]["x"], 1);
  EXPECT_EQ(obj["spec"]["closed"], json({{"a", "k"}}));
}

TEST(SchemaValidate, AdditionalPropertiesSchemaIsChecked) {
  json schema = specSchema({{"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}});
  FieldCause c = onlyCause(withSpec({{"labels", {{"team", 3}}}}), schema);
  EXPECT_EQ(c.field, "spec.labels.team");
  EXPECT_EQ(c.message, "Invalid value: \"integer\": spec.labels.team in body must be of type string: \"integer\"");
}

TEST(SchemaDefaults, AppliedBeforeValidationAndRecursively) {
  json replicas = {{"type", "integer"}, {"default", 1}, {"minimum", 1}};
  json strategy = {{"type", "object"},
                   {"default", json::object()},
                   {"properties", {{"type", {{"type", "string"}, {"default", "Rolling"}}}}}};
  json port = {
      {"type", "object"},
      {"properties", {{"protocol", {{"type", "string"}, {"default", "TCP"}}}, {"port", {{"type", "integer"}}}}}};
  json schema = specSchema({{"replicas", replicas},
                            {"strategy", strategy},
                            {"ports", {{"type", "array"}, {"items", port}}},
                            {"mode", {{"type", "string"}, {"default", "auto"}}}},
                           {"replicas"});
  json obj = withSpec({{"ports", {{{"port", 80}}, {{"port", 53}, {"protocol", "UDP"}}}}, {"mode", nullptr}});
  ValidationResult r = validateCustomObject(obj, schema);
  EXPECT_TRUE(r.causes.empty());
  EXPECT_EQ(obj["spec"]["replicas"], 1);
  EXPECT_EQ(obj["spec"]["strategy"]["type"], "Rolling");  // a defaulted object gets its own defaults
  EXPECT_EQ(obj["spec"]["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(obj["spec"]["ports"][1]["protocol"], "UDP");
  EXPECT_EQ(obj["spec"]["mode"], "auto");  // null of a non-nullable field takes the default
  // Without a spec at all, nothing below it is defaulted.
  json bare = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}};
  EXPECT_TRUE(validateCustomObject(bare, schema).causes.empty());
  EXPECT_FALSE(bare.contains("spec"));
}

TEST(SchemaValidate, NoSchemaAcceptsAnything) {
  json obj = withSpec({{"anything", {1, 2}}});
  ValidationResult r = validateCustomObject(obj, nullptr);
  EXPECT_TRUE(r.causes.empty());
  EXPECT_TRUE(r.unknownFields.empty());
  EXPECT_EQ(obj["spec"]["anything"][1], 2);
}

TEST(SchemaStatus, MessageFormats) {
  std::vector<FieldCause> two = {{"FieldValueRequired", "Required value", "spec.a"},
                                 {"FieldValueRequired", "Required value", "spec.a"}};
  json s = invalidStatus("", "ConfigMap", "cm", two);
  EXPECT_EQ(s["message"], "ConfigMap \"cm\" is invalid: spec.a: Required value");  // duplicates fold
  EXPECT_EQ(s["details"]["causes"].size(), 2u);
  EXPECT_FALSE(s["details"].contains("group"));
  EXPECT_EQ(s["code"], 422);
  EXPECT_EQ(s["reason"], "Invalid");
  EXPECT_EQ(s["status"], "Failure");
  EXPECT_EQ(invalidStatus("g.io", "K", "n", {})["message"], "K.g.io \"n\" is invalid");
  EXPECT_EQ(strictDecodingMessage({"spec.x", "spec.y"}),
            "strict decoding error: unknown field \"spec.x\", unknown field \"spec.y\"");
  EXPECT_EQ(unknownFieldWarnings({"spec.x", "spec.y"}),
            R"(299 - "unknown field \"spec.x\"", 299 - "unknown field \"spec.y\"")");
}

// ---- OpenAPI ------------------------------------------------------------------------

std::vector<OpenApiKind> sampleKinds() {
  json widget = specSchema({{"size", {{"type", "integer"}}}});
  return {{"", "v1", "ConfigMap", "configmaps", true, nullptr, false},
          {"", "v1", "Namespace", "namespaces", false, nullptr, true},
          {"example.com", "v1", "Widget", "widgets", true, widget, true}};
}

TEST(OpenApi, IndexListsEachGroupVersionWithPrefixAndHash) {
  json index = openapiIndex("/clusters/onboarding", sampleKinds());
  ASSERT_EQ(index["paths"].size(), 2u);
  std::string core = index["paths"]["api/v1"]["serverRelativeURL"];
  std::string widgets = index["paths"]["apis/example.com/v1"]["serverRelativeURL"];
  EXPECT_EQ(core.rfind("/clusters/onboarding/openapi/v3/api/v1?hash=", 0), 0u) << core;
  EXPECT_EQ(widgets.rfind("/clusters/onboarding/openapi/v3/apis/example.com/v1?hash=", 0), 0u) << widgets;
  EXPECT_EQ(core.size() - core.find("hash=") - 5, 128u);  // SHA-512 hex
  // The hash follows the document: a schema change changes it, nothing else's.
  auto kinds = sampleKinds();
  kinds[2].schema["properties"]["spec"]["properties"]["color"] = {{"type", "string"}};
  json after = openapiIndex("/clusters/onboarding", kinds);
  EXPECT_NE(after["paths"]["apis/example.com/v1"], index["paths"]["apis/example.com/v1"]);
  EXPECT_EQ(after["paths"]["api/v1"], index["paths"]["api/v1"]);
}

TEST(OpenApi, PatchOperationsCarryGvkAndFieldValidation) {
  json doc = openapiDocument("example.com", "v1", sampleKinds());
  const json& paths = doc["paths"];
  ASSERT_TRUE(paths.contains("/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"));
  ASSERT_TRUE(paths.contains("/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status"));
  EXPECT_FALSE(paths.contains("/api/v1/namespaces/{namespace}/configmaps"));  // other group-versions stay out
  int patches = 0;
  for (auto it = paths.begin(); it != paths.end(); ++it) {
    if (!it->contains("patch")) continue;
    const json& op = (*it)["patch"];
    EXPECT_EQ(op["x-kubernetes-group-version-kind"],
              json({{"group", "example.com"}, {"version", "v1"}, {"kind", "Widget"}}));
    bool hasFieldValidation = false;
    for (const auto& p : op["parameters"]) hasFieldValidation |= p["name"] == "fieldValidation" && p["in"] == "query";
    EXPECT_TRUE(hasFieldValidation) << it.key();
    EXPECT_TRUE(op["requestBody"]["content"].contains("application/merge-patch+json"));
    ++patches;
  }
  EXPECT_EQ(patches, 2);
  const json& item = paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"];
  for (const char* verb : {"get", "put", "patch", "delete"}) EXPECT_TRUE(item.contains(verb)) << verb;
  EXPECT_TRUE(paths["/apis/example.com/v1/namespaces/{namespace}/widgets"].contains("post"));
  EXPECT_TRUE(paths.contains("/apis/example.com/v1/widgets"));  // list across namespaces
  const json& schemas = doc["components"]["schemas"];
  const json& widget = schemas["com.example.v1.Widget"];
  EXPECT_EQ(widget["properties"]["spec"]["properties"]["size"]["type"], "integer");
  EXPECT_EQ(widget["x-kubernetes-group-version-kind"][0]["kind"], "Widget");
  EXPECT_EQ(schemas["com.example.v1.WidgetList"]["x-kubernetes-group-version-kind"][0]["kind"], "WidgetList");
  EXPECT_TRUE(schemas.contains("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
}

TEST(OpenApi, CoreDocumentHasClusterScopedPaths) {
  json doc = openapiDocument("", "v1", sampleKinds());
  const json& paths = doc["paths"];
  EXPECT_TRUE(paths.contains("/api/v1/namespaces/{namespace}/configmaps/{name}"));
  EXPECT_TRUE(paths.contains("/api/v1/namespaces/{name}"));
  EXPECT_TRUE(paths.contains("/api/v1/namespaces/{name}/status"));
  EXPECT_EQ(paths["/api/v1/namespaces/{name}"]["patch"]["x-kubernetes-group-version-kind"]["kind"], "Namespace");
  EXPECT_EQ(paths["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"]["operationId"],
            "patchCoreV1NamespacedConfigMap");
  EXPECT_TRUE(doc["components"]["schemas"].contains("io.k8s.api.core.v1.ConfigMap"));
  EXPECT_EQ(openapiSchemaId("apps", "v1", "Deployment"), "io.k8s.api.apps.v1.Deployment");
  EXPECT_EQ(openapiSchemaId("clusters.openmcp.cloud", "v1alpha1", "ClusterRequest"),
            "cloud.openmcp.clusters.v1alpha1.ClusterRequest");
}

}  // namespace
}  // namespace spr::sim
