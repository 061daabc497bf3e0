// Content-addressed bodies: the stored form of a record and back.
#include "core/journal/bodies.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace spr::journal {

bool storesBodies(uint32_t schemaVersion) { return schemaVersion >= kFirstSchemaWithBodies; }

bool storedByDigest(uint32_t schemaVersion, const std::string& text) {
  return storesBodies(schemaVersion) && text.size() >= kBodyThreshold;
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
  } else if (auto* c = std::get_if<EffectCompleted>(&record.payload)) {
    for (TapeEntry& t : c->tape) {
      slots.push_back({&t.requestBody, &t.requestBodyDigest});
      slots.push_back({&t.responseBody, &t.responseBodyDigest});
    }
  }
  return slots;
}

void toStoredForm(Record& record, std::map<std::string, std::string>* bodies) {
  for (BodySlot slot : bodySlots(record)) {
    if (!slot.digest->empty() || !storedByDigest(record.schemaVersion, *slot.text)) continue;
    *slot.digest = bodyDigest(*slot.text);
    bodies->emplace(*slot.digest, std::move(*slot.text));
    slot.text->clear();
  }
}

std::vector<std::string> referencedDigests(const Record& stored) {
  std::vector<std::string> out;
  for (BodySlot slot : bodySlots(const_cast<Record&>(stored))) {
    if (!slot.digest->empty()) out.push_back(*slot.digest);
  }
  return out;
}

Status hydrate(Record& record, const BodyLookup& lookup) {
  for (BodySlot slot : bodySlots(record)) {
    if (slot.digest->empty()) continue;
    auto body = lookup(*slot.digest);
    if (!body) return Status(body.status().code(), "record " + std::to_string(record.seq) + ": " + body.status().message());
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
