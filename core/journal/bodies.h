// Content-addressed bodies: from schema version 2 on, every large text of a record
// (object JSON, tape request/response bodies; from version 3 on also effect inputs),
// and every EffectCompleted's tape
// as one body (a `Tape`, its own large bodies by digest inside it) is stored once in the
// `bodies` column family under its SHA-256, and the record keeps only the digest, so the
// record's hash covers the digest and the digest covers the body. Stateless functions:
// safe from any thread. See schema/JOURNAL.md, "Bodies".
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/record.h"

namespace spr::journal {

// Texts of this many bytes or more are stored by digest (schema >= 2). A digest costs
// 40 bytes in a record (pointer + 32 bytes) and a body ~50 bytes of key and framing once;
// below 64 bytes inline text is as small and never worth a lookup. Part of the format: the
// canonical encoding of a schema-2 record depends on it, so changing it needs a new
// schema version.
inline constexpr size_t kBodyThreshold = 64;
inline constexpr uint32_t kFirstSchemaWithBodies = 2;
// EffectRequested.inputJson is stored by digest from this version on (inline before).
inline constexpr uint32_t kFirstSchemaWithInputBodies = 3;

// Whether records of `schemaVersion` store large text by digest.
bool storesBodies(uint32_t schemaVersion);
// Whether `text` of a record of `schemaVersion` is stored by digest, for a field stored
// by digest from schema version `since` on.
bool storedByDigest(uint32_t schemaVersion, const std::string& text, uint32_t since = kFirstSchemaWithBodies);
// SHA-256 of `text`, 32 raw bytes. Throws std::runtime_error if OpenSSL fails.
std::string bodyDigest(const std::string& text);

// One body slot of a record: its text and its digest (stored form: digest set, text empty).
struct BodySlot {
  std::string* text;
  std::string* digest;
  uint32_t since = kFirstSchemaWithBodies;  // the first schema version storing it by digest
};
std::vector<BodySlot> bodySlots(Record& record);

// Turns a whole record into its stored form: each text that the record's schema stores
// by digest moves into `bodies` (digest -> text) and its digest field is set; a tape
// becomes one entry whose tapeDigest names its encoded entries (also put in `bodies`).
// Throws std::runtime_error if encoding or hashing fails.
void toStoredForm(Record& record, std::map<std::string, std::string>* bodies);
// A body a stored-form record refers to; a tape's body refers to more bodies in turn.
struct BodyRef {
  std::string digest;
  bool tape = false;  // the body is an encoded tape (decodeTapeBody, codec.h)
};
std::vector<BodyRef> referencedBodies(const Record& stored);
// The digests a tape body's entries refer to. kCorruption if it does not decode.
[[nodiscard]] Result<std::vector<std::string>> digestsInTape(const std::string& tapeBody);

// Looks a body up by digest: the text, nullopt when absent, or an error.
using BodyLookup = std::function<Result<std::optional<std::string>>(const std::string& digest)>;
// Turns a stored-form record back into a whole one: texts read through `lookup`, digests
// cleared. A missing body is kCorruption naming the record and the digest.
[[nodiscard]] Status hydrate(Record& record, const BodyLookup& lookup);

// For archive and bundle writers: the bodies (digest -> text) that `records` (whole, as
// Journal reads return them) store by digest. Records read from a Journal are whole, so
// a bundle of them carries its bodies inline; this is for writers that keep bodies apart.
std::map<std::string, std::string> bodiesOf(const std::vector<Record>& records);

}  // namespace spr::journal
