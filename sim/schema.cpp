// Structural-schema pruning, defaulting and validation, following kube-apiserver's
// apiextensions server (k8s.io/kube-openapi/pkg/validation/validate and the conversion of
// its errors to field errors in apiextensions-apiserver). Messages and values are printed
// as Go prints them (%q strings, %v numbers), so causes match a real cluster's byte for byte.
#include "sim/schema.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>

namespace spr::sim {
namespace {

using nlohmann::json;

// ---- Go formatting -------------------------------------------------------------------

// Go's %q for a (UTF-8) string: quotes, escapes \ " and control characters.
std::string goQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Go's %v for a float64 (strconv 'g', -1): shortest round-trip digits, exponent form when
// the decimal exponent is < -4 or >= 6 ("1e+06", "123456", "1.5", "1e-05").
std::string goFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, f);
    if (std::strtod(buf, nullptr) == f) break;
  }
  std::string s = buf;
  bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (s[i] != '.') digits += s[i];
  std::string out;
  if (exp < -4 || exp >= 6) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  } else if (exp < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
  }
  return neg ? "-" + out : out;
}

// Go's encoding/json escapes <, > and & inside strings; nlohmann does not.
std::string goJson(const json& v) {
  std::string s = v.dump(), out;
  for (char c : s) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

// A field.Error's bad value as ErrorBody prints it.
std::string goValue(const json& v) {
  if (v.is_string()) return goQuote(v.get<std::string>());
  if (v.is_number_float()) return goFloat(v.get<double>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return goJson(v);  // null, objects, arrays
}

// ---- schema helpers ------------------------------------------------------------------

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

bool flag(const json& s, const char* key) {
  auto it = s.find(key);
  return it != s.end() && it->is_boolean() && it->get<bool>();
}

const json* member(const json& s, const char* key) {
  if (!s.is_object()) return nullptr;
  auto it = s.find(key);
  return it == s.end() ? nullptr : &*it;
}

const json* objectMember(const json& s, const char* key) {
  const json* m = member(s, key);
  return m && m->is_object() ? m : nullptr;
}

// The schema for `key` of an object: a declared property, else a schema-valued
// additionalProperties, else null.
const json* childSchema(const json& s, const std::string& key) {
  if (const json* props = objectMember(s, "properties")) {
    auto it = props->find(key);
    if (it != props->end()) return &*it;
  }
  return objectMember(s, "additionalProperties");
}

bool keepsUnknown(const json& s) {
  const json* ap = member(s, "additionalProperties");
  return flag(s, "x-kubernetes-preserve-unknown-fields") || (ap && ap->is_boolean() && ap->get<bool>());
}

bool isRootMeta(bool root, const std::string& key) {
  return root && (key == "apiVersion" || key == "kind" || key == "metadata");
}

bool keptByEmbedding(const json& s, bool root, const std::string& key) {
  return (root || flag(s, "x-kubernetes-embedded-resource")) &&
         (key == "apiVersion" || key == "kind" || key == "metadata");
}

// The types a schema allows, as kube-openapi sees them (int-or-string = "integer,string").
std::vector<std::string> typesOf(const json& s) {
  if (flag(s, "x-kubernetes-int-or-string")) return {"integer", "string"};
  const json* t = member(s, "type");
  if (!t) return {};
  if (t->is_string()) return {t->get<std::string>()};
  std::vector<std::string> out;
  if (t->is_array())
    for (const auto& x : *t)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

std::string jsonTypeName(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";  // signed and unsigned
  if (v.is_number_float()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

// The Go format kube-openapi infers from a decoded JSON value (schemaInfoForType).
std::string goFormatOf(const json& v) {
  if (v.is_number_integer()) return "int64";
  if (v.is_number_float()) return "float64";
  return "";
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  for (const auto& s : v)
    if (s == x) return true;
  return false;
}

std::string joinTypes(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

bool integral(const json& v) {
  if (!v.is_number_float()) return v.is_number_integer();
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

// ---- pruning and defaulting ----------------------------------------------------------

void prune(json& v, const json& s, const std::string& path, bool root, std::vector<std::string>& unknown) {
  if (!s.is_object()) return;
  if (v.is_array()) {
    if (const json* items = objectMember(s, "items"))
      for (size_t i = 0; i < v.size(); ++i) prune(v[i], *items, index(path, i), false, unknown);
    return;
  }
  if (!v.is_object()) return;
  for (auto it = v.begin(); it != v.end();) {
    const std::string key = it.key();
    if (isRootMeta(root, key)) {
      ++it;
      continue;
    }
    if (const json* cs = childSchema(s, key)) {
      prune(it.value(), *cs, join(path, key), false, unknown);
      ++it;
    } else if (keepsUnknown(s) || keptByEmbedding(s, root, key)) {
      ++it;
    } else {
      unknown.push_back(join(path, key));
      it = v.erase(it);
    }
  }
}

void applyDefaults(json& v, const json& s, bool root) {
  if (!s.is_object()) return;
  if (v.is_array()) {
    const json* items = objectMember(s, "items");
    if (!items) return;
    for (auto& item : v) {
      if (item.is_null() && !flag(*items, "nullable") && items->contains("default")) item = (*items)["default"];
      applyDefaults(item, *items, false);
    }
    return;
  }
  if (!v.is_object()) return;
  if (const json* props = objectMember(s, "properties")) {
    for (auto it = props->begin(); it != props->end(); ++it) {
      if (isRootMeta(root, it.key()) || !it->is_object() || !it->contains("default")) continue;
      auto found = v.find(it.key());
      if (found == v.end() || (found->is_null() && !flag(*it, "nullable"))) v[it.key()] = (*it)["default"];
    }
  }
  for (auto it = v.begin(); it != v.end();) {
    const json* cs = isRootMeta(root, it.key()) ? nullptr : childSchema(s, it.key());
    if (cs && it->is_null() && !flag(*cs, "nullable") && !cs->contains("default")) {
      it = v.erase(it);  // PruneNonNullableNullsWithoutDefaults
      continue;
    }
    if (cs) applyDefaults(it.value(), *cs, false);
    ++it;
  }
}

// ---- validation ----------------------------------------------------------------------

class Validator {
 public:
  explicit Validator(std::vector<FieldCause>& causes) : causes_(causes) {}

  void value(const json& v, const json& s, const std::string& path, bool root) {
    if (!s.is_object()) return;
    if (!typeOk(v, s, path)) {
      enumeration(v, s, path);
      return;
    }
    if (v.is_null()) return;
    if (v.is_string()) str(v.get<std::string>(), s, path);
    if (v.is_number()) number(v, s, path);
    if (v.is_array()) array(v, s, path);
    enumeration(v, s, path);
    if (v.is_object()) object(v, s, path, root);
  }

 private:
  void add(const char* reason, const std::string& field, const std::string& message) {
    causes_.push_back(FieldCause{reason, message, field});
  }
  // field.TypeInvalid(path, badValue, "<path> in body must be of type <t>: \"<badValue>\"").
  void typeInvalid(const std::string& path, const std::string& typeName, const std::string& bad) {
    add("FieldValueTypeInvalid", path,
        "Invalid value: " + goQuote(bad) + ": " + path + " in body must be of type " + typeName + ": " + goQuote(bad));
  }
  // field.Invalid(path, value, "<path> in body <detail>").
  void invalid(const std::string& path, const std::string& shownValue, const std::string& detail) {
    add("FieldValueInvalid", path, "Invalid value: " + shownValue + ": " + path + " in body " + detail);
  }

  bool typeOk(const json& v, const json& s, const std::string& path) {
    std::vector<std::string> types = typesOf(s);
    std::string format = s.value("format", "");
    if (v.is_null()) {
      if (!types.empty() && !contains(types, "null") && !flag(s, "nullable")) {
        typeInvalid(path, joinTypes(types), "null");
        return false;
      }
      return true;
    }
    if (types.empty() && format.empty()) return true;
    std::string have = jsonTypeName(v);
    bool floatInt = have == "number" && integral(v) && contains(types, "integer");
    bool intFloat = have == "integer" && contains(types, "number");
    bool match = contains(types, have) || floatInt || intFloat;
    if (!v.is_string() && !v.is_array() && !format.empty() && !(match || goFormatOf(v) == format)) {
      typeInvalid(path, format, goFormatOf(v));  // kube-openapi reports the format here
      return false;
    }
    if (types.empty()) return true;
    if (!match) {
      typeInvalid(path, joinTypes(types), have);
      return false;
    }
    return true;
  }

  void str(const std::string& v, const json& s, const std::string& path) {
    // Lengths count runes, as utf8.RuneCount does.
    int64_t runes = 0;
    for (unsigned char c : v) runes += (c & 0xC0) != 0x80;
    if (const json* m = member(s, "maxLength"); m && m->is_number() && runes > m->get<int64_t>()) {
      add("FieldValueTooLong", path, "Too long: value is too long");
      return;
    }
    if (const json* m = member(s, "minLength"); m && m->is_number() && runes < m->get<int64_t>()) {
      invalid(path, goQuote(v), "should be at least " + std::to_string(m->get<int64_t>()) + " chars long");
      return;
    }
    if (const json* p = member(s, "pattern"); p && p->is_string()) pattern(v, p->get<std::string>(), path);
    if (const json* f = member(s, "format"); f && f->is_string() && !formatOk(f->get<std::string>(), v))
      typeInvalid(path, f->get<std::string>(), v);
  }

  void pattern(const std::string& v, const std::string& p, const std::string& path) {
    try {
      if (!std::regex_search(v, std::regex(p, std::regex::ECMAScript)))
        invalid(path, goQuote(v), "should match '" + p + "'");
    } catch (const std::regex_error& e) {
      invalid(path, goQuote(v), "should match '" + p + ", but pattern is invalid: " + e.what() + "'");
    }
  }

  static bool formatOk(const std::string& format, const std::string& v) {
    static const std::regex kDateTime(R"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))");
    static const std::regex kDate(R"(\d{4}-\d{2}-\d{2})");
    static const std::regex kUuid(R"([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})");
    static const std::regex kIpv4(R"(((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))");
    static const std::regex kByte(R"(([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)");
    if (format == "date-time") return std::regex_match(v, kDateTime);
    if (format == "date") return std::regex_match(v, kDate);
    if (format == "uuid") return std::regex_match(v, kUuid);
    if (format == "ipv4") return std::regex_match(v, kIpv4);
    if (format == "byte") return std::regex_match(v, kByte);
    return true;  // formats kube does not check (int32, int64, double, ...) or we do not know
  }

  // multipleOf, minimum, maximum; integers print bounds as int64, floats as Go floats.
  void number(const json& v, const json& s, const std::string& path) {
    bool isInt = v.is_number_integer();
    double d = v.get<double>();
    auto bound = [&](double b) { return isInt ? std::to_string(static_cast<int64_t>(b)) : goFloat(b); };
    std::string shown = goValue(v);
    if (const json* m = member(s, "multipleOf"); m && m->is_number() && m->get<double>() > 0) {
      double q = d / m->get<double>();  // integral within float noise (0.3 / 0.1), as swag checks
      if (std::fabs(q - std::round(q)) > 1e-9 * std::max(1.0, std::fabs(q)))
        invalid(path, shown, "should be a multiple of " + bound(m->get<double>()));
    }
    if (const json* m = member(s, "minimum"); m && m->is_number()) {
      double b = isInt ? static_cast<double>(static_cast<int64_t>(m->get<double>())) : m->get<double>();
      bool ex = flag(s, "exclusiveMinimum");
      if (ex ? d <= b : d < b)
        invalid(path, shown, std::string("should be greater than ") + (ex ? "" : "or equal to ") + bound(b));
    }
    if (const json* m = member(s, "maximum"); m && m->is_number()) {
      double b = isInt ? static_cast<double>(static_cast<int64_t>(m->get<double>())) : m->get<double>();
      bool ex = flag(s, "exclusiveMaximum");
      if (ex ? d >= b : d > b)
        invalid(path, shown, std::string("should be less than ") + (ex ? "" : "or equal to ") + bound(b));
    }
  }

  void array(const json& v, const json& s, const std::string& path) {
    if (const json* items = objectMember(s, "items"))
      for (size_t i = 0; i < v.size(); ++i) value(v[i], *items, index(path, i), false);
    auto size = static_cast<int64_t>(v.size());
    if (const json* m = member(s, "minItems"); m && m->is_number() && size < m->get<int64_t>())
      invalid(path, std::to_string(size), "should have at least " + std::to_string(m->get<int64_t>()) + " items");
    if (const json* m = member(s, "maxItems"); m && m->is_number() && size > m->get<int64_t>())
      add("FieldValueTooMany", path, "Too many: " + std::to_string(size) + ": has too many items");
    listType(v, s, path);
  }

  // x-kubernetes-list-type map (items unique by x-kubernetes-list-map-keys) and set (unique
  // items): a repeated entry is field.Duplicate at its index, as kube-apiserver reports it.
  void listType(const json& v, const json& s, const std::string& path) {
    const json* type = member(s, "x-kubernetes-list-type");
    if (!type || !type->is_string()) return;
    const json* keys = member(s, "x-kubernetes-list-map-keys");
    std::set<std::string> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      json key;
      if (*type == "map" && keys && keys->is_array() && v[i].is_object()) {
        key = json::object();
        for (const auto& k : *keys)
          if (k.is_string() && v[i].contains(k.get<std::string>()))
            key[k.get<std::string>()] = v[i][k.get<std::string>()];
      } else if (*type == "set") {
        key = v[i];
      } else {
        continue;
      }
      if (!seen.insert(key.dump()).second)
        add("FieldValueDuplicate", index(path, i), "Duplicate value: " + goValue(key));
    }
  }

  void enumeration(const json& v, const json& s, const std::string& path) {
    const json* e = member(s, "enum");
    if (!e || !e->is_array() || e->empty()) return;
    for (const auto& allowed : *e)
      if (allowed == v) return;
    std::string list;
    for (const auto& allowed : *e)
      list += (list.empty() ? "" : ", ") + goQuote(allowed.is_string() ? allowed.get<std::string>() : goJson(allowed));
    add("FieldValueNotSupported", path, "Unsupported value: " + goValue(v) + ": supported values: " + list);
  }

  void object(const json& v, const json& s, const std::string& path, bool root) {
    const json* props = objectMember(s, "properties");
    if (const json* ap = objectMember(s, "additionalProperties"))
      for (auto it = v.begin(); it != v.end(); ++it)
        if (!(props && props->contains(it.key())) && !isRootMeta(root, it.key()))
          value(*it, *ap, join(path, it.key()), false);
    if (props)
      for (auto it = props->begin(); it != props->end(); ++it) {
        auto found = v.find(it.key());
        if (found != v.end() && !isRootMeta(root, it.key())) value(*found, *it, join(path, it.key()), false);
      }
    if (const json* req = member(s, "required"); req && req->is_array())
      for (const auto& k : *req)
        if (k.is_string() && !v.contains(k.get<std::string>()) && !isRootMeta(root, k.get<std::string>()))
          add("FieldValueRequired", join(path, k.get<std::string>()), "Required value");
  }

  std::vector<FieldCause>& causes_;
};

}  // namespace

ValidationResult validateCustomObject(json& object, const json& schema) {
  ValidationResult result;
  if (!schema.is_object() || !object.is_object()) return result;
  prune(object, schema, "", true, result.unknownFields);
  applyDefaults(object, schema, true);
  Validator(result.causes).value(object, schema, "", true);
  return result;
}

json invalidStatus(const std::string& group, const std::string& kind, const std::string& name,
                   const std::vector<FieldCause>& causes) {
  json details = {{"name", name}, {"kind", kind}, {"causes", json::array()}};
  if (!group.empty()) details["group"] = group;
  if (name.empty()) details.erase("name");
  std::vector<std::string> errors;
  std::set<std::string> seen;
  for (const auto& c : causes) {
    json cause = {{"reason", c.reason}};
    if (!c.message.empty()) cause["message"] = c.message;
    if (!c.field.empty()) cause["field"] = c.field;
    details["causes"].push_back(cause);
    std::string text = (c.field.empty() ? "<nil>" : c.field) + ": " + c.message;
    if (seen.insert(text).second) errors.push_back(text);
  }
  std::string qualified = group.empty() ? kind : kind + "." + group;
  std::string message = qualified + " " + goQuote(name) + " is invalid";
  if (errors.size() == 1) message += ": " + errors[0];
  if (errors.size() > 1) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : ", ") + e;
    message += ": [" + all + "]";
  }
  if (causes.empty()) details.erase("causes");
  return json{{"kind", "Status"},   {"apiVersion", "v1"},  {"metadata", json::object()}, {"status", "Failure"},
              {"message", message}, {"reason", "Invalid"}, {"details", details},         {"code", 422}};
}

std::string strictDecodingMessage(const std::vector<std::string>& unknownFields) {
  std::string list;
  for (const auto& f : unknownFields) list += (list.empty() ? "" : ", ") + std::string("unknown field ") + goQuote(f);
  return "strict decoding error: " + list;
}

std::string unknownFieldWarnings(const std::vector<std::string>& unknownFields) {
  std::string out;
  for (const auto& f : unknownFields)
    out += (out.empty() ? "" : ", ") + std::string("299 - ") + goQuote("unknown field " + goQuote(f));
  return out;
}

}  // namespace spr::sim
