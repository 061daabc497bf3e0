// Record <-> Cap'n Proto bytes (schema/journal.capnp). The encoding is canonical, so
// the same Record always yields the same bytes; hashes are computed over it.
// Stateless functions: safe from any thread.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"
#include "core/journal/record.h"

namespace spr::journal {

// Canonical Cap'n Proto bytes of `record` (all fields, including hash).
[[nodiscard]] Result<std::string> encodeRecord(const Record& record);
// Decodes bytes from encodeRecord. Any alignment is accepted. Garbage -> kCorruption;
// a record from a newer schema -> kVersionMismatch.
[[nodiscard]] Result<Record> decodeRecord(const std::string& bytes);
[[nodiscard]] Result<Record> decodeRecord(const char* data, size_t size);

// SHA-256(prevHash || canonical bytes of `record` with its hash field empty), 32 raw bytes.
// The record's own hash field is ignored.
[[nodiscard]] Result<std::string> computeHash(const Record& record);
// Sets record.hash to computeHash(record) and returns encodeRecord(record), building the
// message only once (the append path).
[[nodiscard]] Result<std::string> sealRecord(Record& record);

}  // namespace spr::journal
