// Record <-> Cap'n Proto bytes (schema/journal.capnp). The encoding is canonical, so
// the same Record always yields the same bytes; hashes are computed over it.
// Stateless functions: safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "core/journal/record.h"

namespace spr::journal {

// Canonical Cap'n Proto bytes of `record` (all fields, including hash).
[[nodiscard]] Result<std::string> encodeRecord(const Record& record);
// Decodes bytes from encodeRecord. Any alignment is accepted. Garbage -> kCorruption;
// a record from a newer schema -> kVersionMismatch.
[[nodiscard]] Result<Record> decodeRecord(const std::string& bytes);
[[nodiscard]] Result<Record> decodeRecord(const char* data, size_t size);

// A tape stored as one body (bodies.h, schema >= 2): the canonical bytes of its entries
// in stored form (whole entries are accepted and stored-formed on the way), and back
// (entries in stored form: their large bodies by digest).
[[nodiscard]] Result<std::string> encodeTapeBody(const std::vector<TapeEntry>& tape, uint32_t schemaVersion);
[[nodiscard]] Result<std::vector<TapeEntry>> decodeTapeBody(const std::string& bytes);

// SHA-256(prevHash || canonical bytes of `record` with its hash field empty), 32 raw bytes.
// The record's own hash field is ignored.
[[nodiscard]] Result<std::string> computeHash(const Record& record);
// Sets record.hash to computeHash(record) and returns encodeRecord(record), building the
// message only once (the append path).
[[nodiscard]] Result<std::string> sealRecord(Record& record);

}  // namespace spr::journal
