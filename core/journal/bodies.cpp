// Content-addressed bodies: the stored form of a record and back.
#include "core/journal/bodies.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "core/journal/codec.h"

namespace spr::journal {

bool storesBodies(uint32_t schemaVersion) { return schemaVersion >= kFirstSchemaWithBodies; }

bool storedByDigest(uint32_t schemaVersion, const std::string& text, uint32_t since) {
  return storesBodies(schemaVersion) && schemaVersion >= since && text.size() >= kBodyThreshold;
}

std::string bodyDigest(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP)");
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::vector<BodySlot> bodySlots(Record& record) {
  std::vector<BodySlot> slots;
  if (auto* o = std::get_if<Observed>(&record.payload)) {
    slots.push_back({&o->objectJson, &o->objectJsonDigest});
  } else if (auto* q = std::get_if<EffectRequested>(&record.payload)) {
    slots.push_back({&q->inputJson, &q->inputJsonDigest, kFirstSchemaWithInputBodies});
  } else if (auto* c = std::get_if<EffectCompleted>(&record.payload)) {
    for (TapeEntry& t : c->tape) {
      slots.push_back({&t.requestBody, &t.requestBodyDigest});
      slots.push_back({&t.responseBody, &t.responseBodyDigest});
    }
  }
  return slots;
}

namespace {

bool storedTape(const std::vector<TapeEntry>& tape) { return tape.size() == 1 && !tape[0].tapeDigest.empty(); }

}  // namespace

void toStoredForm(Record& record, std::map<std::string, std::string>* bodies) {
  for (BodySlot slot : bodySlots(record)) {
    if (!slot.digest->empty() || !storedByDigest(record.schemaVersion, *slot.text, slot.since)) continue;
    *slot.digest = bodyDigest(*slot.text);
    bodies->emplace(*slot.digest, std::move(*slot.text));
    slot.text->clear();
  }
  auto* c = std::get_if<EffectCompleted>(&record.payload);
  if (c == nullptr || c->tape.empty() || storedTape(c->tape) || !storesBodies(record.schemaVersion)) return;
  auto bytes = encodeTapeBody(c->tape, record.schemaVersion);
  if (!bytes) throw std::runtime_error(bytes.status().message());
  TapeEntry stands;
  stands.tapeDigest = bodyDigest(*bytes);
  bodies->emplace(stands.tapeDigest, std::move(bytes).value());
  c->tape = {stands};
}

std::vector<BodyRef> referencedBodies(const Record& stored) {
  std::vector<BodyRef> out;
  for (BodySlot slot : bodySlots(const_cast<Record&>(stored))) {
    if (!slot.digest->empty()) out.push_back({*slot.digest, false});
  }
  if (const auto* c = std::get_if<EffectCompleted>(&stored.payload)) {
    for (const TapeEntry& t : c->tape) {
      if (!t.tapeDigest.empty()) out.push_back({t.tapeDigest, true});
    }
  }
  return out;
}

Result<std::vector<std::string>> digestsInTape(const std::string& tapeBody) {
  auto entries = decodeTapeBody(tapeBody);
  if (!entries) return entries.status();
  std::vector<std::string> out;
  for (const TapeEntry& t : *entries) {
    if (!t.requestBodyDigest.empty()) out.push_back(t.requestBodyDigest);
    if (!t.responseBodyDigest.empty()) out.push_back(t.responseBodyDigest);
  }
  return out;
}

namespace {

// A stored tape (one entry naming the tape body) back to its entries, in stored form.
Status hydrateTape(Record& record, const BodyLookup& lookup) {
  auto* c = std::get_if<EffectCompleted>(&record.payload);
  if (c == nullptr || !storedTape(c->tape)) return Status::ok();
  const std::string digest = c->tape[0].tapeDigest;
  auto body = lookup(digest);
  if (!body)
    return Status(body.status().code(), "record " + std::to_string(record.seq) + ": " + body.status().message());
  if (!body->has_value()) {
    return Status(Code::kCorruption, "record " + std::to_string(record.seq) + ": tape body sha256:" + toHex(digest) +
                                         " is missing from the journal's bodies (deleted); run spr journal verify");
  }
  auto entries = decodeTapeBody(**body);
  if (!entries)
    return Status(Code::kCorruption, "record " + std::to_string(record.seq) + ": " + entries.status().message());
  c->tape = std::move(entries).value();
  return Status::ok();
}

}  // namespace

Status hydrate(Record& record, const BodyLookup& lookup) {
  SPR_RETURN_IF_ERROR(hydrateTape(record, lookup));
  for (BodySlot slot : bodySlots(record)) {
    if (slot.digest->empty()) continue;
    auto body = lookup(*slot.digest);
    if (!body)
      return Status(body.status().code(), "record " + std::to_string(record.seq) + ": " + body.status().message());
    if (!body->has_value()) {
      return Status(Code::kCorruption, "record " + std::to_string(record.seq) + ": body sha256:" + toHex(*slot.digest) +
                                           " is missing from the journal's bodies (deleted); run spr journal verify");
    }
    *slot.text = std::move(**body);
    slot.digest->clear();
  }
  return Status::ok();
}

std::map<std::string, std::string> bodiesOf(const std::vector<Record>& records) {
  std::map<std::string, std::string> out;
  for (const Record& r : records) {
    Record copy = r;
    toStoredForm(copy, &out);
  }
  return out;
}

}  // namespace spr::journal
