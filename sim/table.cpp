#include "sim/table.h"

#include <ctime>

namespace spr::sim {

using nlohmann::json;

bool wantsTable(const std::string& accept) {
  size_t start = 0;
  while (start < accept.size()) {
    size_t end = accept.find(',', start);
    std::string part = accept.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.find("as=Table") != std::string::npos && part.find("g=meta.k8s.io") != std::string::npos) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

namespace {

// One step of a path: a field name, an index, [*], or a filter [?(@.field=='value')].
struct Step {
  enum Kind { kField, kIndex, kAll, kFilter } kind = kField;
  std::string field;  // kField; for kFilter, the compared field path (after "@.")
  long index = 0;
  std::string value;  // kFilter: the compared value (quotes removed)
  bool equal = true;  // kFilter: == or !=

  static Step of(Kind kind, std::string field = "") {
    Step s;
    s.kind = kind;
    s.field = std::move(field);
    return s;
  }
};

// Parses ".a.b[0].c[?(@.type=='Ready')].status"; an optional {...} around it is allowed.
bool parsePath(std::string path, std::vector<Step>* steps) {
  if (path.size() >= 2 && path.front() == '{' && path.back() == '}') path = path.substr(1, path.size() - 2);
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t end = path.find_first_of(".[", i + 1);
      std::string name = path.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      if (!name.empty()) steps->push_back(Step::of(Step::kField, name));
      i = end == std::string::npos ? path.size() : end;
    } else if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (path.compare(i, 3, "[?(") == 0) close = path.find(")]", i) + 1;
      if (close == std::string::npos || close == 0) return false;
      std::string inner = path.substr(i + 1, close - i - 1);
      if (inner == "*") {
        steps->push_back(Step::of(Step::kAll));
      } else if (inner.rfind("?(@.", 0) == 0 && inner.back() == ')') {
        std::string expr = inner.substr(4, inner.size() - 5);
        size_t op = expr.find("==");
        bool equal = true;
        if (op == std::string::npos) op = expr.find("!="), equal = false;
        if (op == std::string::npos) return false;
        Step s = Step::of(Step::kFilter, expr.substr(0, op));
        s.value = expr.substr(op + 2);
        if (s.value.size() >= 2 && (s.value.front() == '\'' || s.value.front() == '"'))
          s.value = s.value.substr(1, s.value.size() - 2);
        s.equal = equal;
        steps->push_back(s);
      } else {
        char* end = nullptr;
        long n = std::strtol(inner.c_str(), &end, 10);
        if (!end || *end != '\0') return false;
        Step s = Step::of(Step::kIndex);
        s.index = n;
        steps->push_back(s);
      }
      i = close + 1;
    } else {
      return false;
    }
  }
  return true;
}

const json* field(const json& obj, const std::string& dotted) {
  const json* cur = &obj;
  size_t start = 0;
  while (start <= dotted.size()) {
    size_t end = dotted.find('.', start);
    std::string name = dotted.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!cur->is_object() || !cur->contains(name)) return nullptr;
    cur = &(*cur)[name];
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return cur;
}

std::string scalarText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

std::vector<json> jsonPathValues(const json& object, const std::string& path) {
  std::vector<Step> steps;
  if (!parsePath(path, &steps)) return {};
  std::vector<const json*> current = {&object};
  for (const auto& step : steps) {
    std::vector<const json*> next;
    for (const json* v : current) {
      switch (step.kind) {
        case Step::kField:
          if (v->is_object() && v->contains(step.field)) next.push_back(&(*v)[step.field]);
          break;
        case Step::kIndex: {
          if (!v->is_array()) break;
          long n = step.index < 0 ? static_cast<long>(v->size()) + step.index : step.index;
          if (n >= 0 && n < static_cast<long>(v->size())) next.push_back(&(*v)[static_cast<size_t>(n)]);
          break;
        }
        case Step::kAll:
          if (v->is_array() || v->is_object())
            for (const auto& item : *v) next.push_back(&item);
          break;
        case Step::kFilter:
          if (!v->is_array()) break;
          for (const auto& item : *v) {
            const json* f = field(item, step.field);
            bool match = f && scalarText(*f) == step.value;
            if (match == step.equal) next.push_back(&item);
          }
          break;
      }
    }
    current = std::move(next);
  }
  std::vector<json> out;
  for (const json* v : current) out.push_back(*v);
  return out;
}

std::string humanAge(const std::string& rfc3339) {
  std::tm tm{};
  if (rfc3339.size() < 19 || !strptime(rfc3339.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return "";
  long secs = static_cast<long>(std::time(nullptr) - timegm(&tm));
  if (secs < 0) secs = 0;
  // kubectl's duration.HumanDuration, abridged.
  if (secs < 120) return std::to_string(secs) + "s";
  long mins = secs / 60, hours = secs / 3600, days = hours / 24;
  if (mins < 10) return std::to_string(mins) + "m" + (secs % 60 ? std::to_string(secs % 60) + "s" : "");
  if (hours < 3) return std::to_string(mins) + "m";
  if (hours < 8) return std::to_string(hours) + "h" + (mins % 60 ? std::to_string(mins % 60) + "m" : "");
  if (hours < 48) return std::to_string(hours) + "h";
  if (days < 8) return std::to_string(days) + "d" + (hours % 24 ? std::to_string(hours % 24) + "h" : "");
  if (days < 365 * 2) return std::to_string(days) + "d";
  if (days < 365 * 8) return std::to_string(days / 365) + "y" + (days % 365 ? std::to_string(days % 365) + "d" : "");
  return std::to_string(days / 365) + "y";
}

namespace {

json cell(const json& object, const json& column) {
  std::vector<json> values = jsonPathValues(object, column.value("jsonPath", ""));
  if (values.empty()) return nullptr;
  std::string type = column.value("type", "string");
  if (type == "date") return humanAge(scalarText(values.front()));
  if (values.size() == 1 && (type == "integer" || type == "number" || type == "boolean") && !values.front().is_string())
    return values.front();
  std::string joined;
  for (const auto& v : values) joined += (joined.empty() ? "" : ",") + scalarText(v);
  return joined;
}

json columnDefinition(const json& column) {
  return {{"name", column.value("name", "")},
          {"type", column.value("type", "string")},
          {"format", column.value("format", "")},
          {"description", column.value("description", "")},
          {"priority", column.value("priority", 0)}};
}

}  // namespace

json toTable(const std::vector<const json*>& objects, const json& listMeta, const TableOptions& options) {
  json columns = options.printerColumns.is_array() && !options.printerColumns.empty()
                     ? options.printerColumns
                     : json::array({{{"name", "Age"},
                                     {"type", "date"},
                                     {"jsonPath", ".metadata.creationTimestamp"},
                                     {"description",
                                      "CreationTimestamp is a timestamp representing the server time "
                                      "when this object was created."}}});
  json table = {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", listMeta}};
  if (!options.noHeaders) {
    json defs = json::array({{{"name", "Name"},
                              {"type", "string"},
                              {"format", "name"},
                              {"description", "Name must be unique within a namespace."},
                              {"priority", 0}}});
    for (const auto& c : columns) defs.push_back(columnDefinition(c));
    table["columnDefinitions"] = defs;
  }
  json rows = json::array();
  for (const json* obj : objects) {
    json cells = json::array({(*obj)["metadata"].value("name", "")});
    for (const auto& c : columns) cells.push_back(cell(*obj, c));
    json row = {{"cells", cells}};
    if (options.includeObject == "Object") {
      row["object"] = *obj;
    } else if (options.includeObject != "None") {
      row["object"] = {
          {"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", (*obj)["metadata"]}};
    }
    rows.push_back(std::move(row));
  }
  table["rows"] = rows;
  return table;
}

}  // namespace spr::sim
