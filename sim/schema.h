// Custom-resource validation as kube-apiserver's apiextensions server does it: prune
// unknown fields, apply `default`s, then check the object against the CRD version's
// structural openAPIV3Schema, reporting field causes with kube's exact reasons and
// messages; plus the 422 Invalid Status body built from them. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spr::sim {

// One field error, as a metav1.StatusCause: reason is a field.ErrorType string
// ("FieldValueRequired", "FieldValueInvalid", "FieldValueTypeInvalid",
// "FieldValueNotSupported", "FieldValueTooLong", "FieldValueTooMany", ...), message the
// error body ("Required value", "Invalid value: \"boolean\": spec.x in body must be of
// type array: \"boolean\""), field the path ("spec.items[0].name").
struct FieldCause {
  std::string reason, message, field;
};

struct ValidationResult {
  std::vector<FieldCause> causes;          // empty = valid
  std::vector<std::string> unknownFields;  // pruned paths, e.g. "spec.foo", "spec.list[0].bar"
};

// Validates `object` (a whole custom object) against a CRD version's openAPIV3Schema. In
// place, first prunes fields the schema does not know (unless
// x-kubernetes-preserve-unknown-fields), drops nulls of non-nullable fields and applies
// `default`s, then validates: type (object, array, string, integer, number, boolean),
// properties, required, items, additionalProperties (schema or bool), enum,
// minimum/maximum (and exclusive*), multipleOf, minLength/maxLength, pattern,
// minItems/maxItems, string formats, nullable, x-kubernetes-int-or-string,
// x-kubernetes-embedded-resource. Root apiVersion/kind/metadata are kept and not checked
// (the caller validates metadata). A null or non-object schema accepts everything.
ValidationResult validateCustomObject(nlohmann::json& object, const nlohmann::json& openAPIV3Schema);

// The 422 Status kube-apiserver answers for invalid objects: reason Invalid, details
// {name, group, kind, causes}, message `<Kind>.<group> "<name>" is invalid: <errors>`
// where <errors> is "field: body" for one cause and "[a, b]" for several (duplicates
// folded, as apimachinery's aggregate does). The group is omitted for the core group.
nlohmann::json invalidStatus(const std::string& group, const std::string& kind, const std::string& name,
                             const std::vector<FieldCause>& causes);

// The "Strict" fieldValidation complaint for pruned fields, as kube-apiserver words it:
// `strict decoding error: unknown field "spec.foo", unknown field "spec.bar"`.
std::string strictDecodingMessage(const std::vector<std::string>& unknownFields);

// The Warning header value kube-apiserver sends for pruned fields under fieldValidation
// Warn (the default): one RFC 7234 warning per field, the text Go-quoted, comma-joined:
// `299 - "unknown field \"spec.foo\"", 299 - "unknown field \"spec.bar\""`. kubectl prints
// each as `Warning: unknown field "spec.foo"`; it ignores a value whose quotes are not escaped.
std::string unknownFieldWarnings(const std::vector<std::string>& unknownFields);

}  // namespace spr::sim
