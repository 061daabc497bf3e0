# spr journal records. See JOURNAL.md beside this file for the record kinds, the
# RocksDB key layout, hashing and the evolution rules. Evolution: add fields and union
# members with NEW ordinals only; never renumber, retype or reuse an ordinal.
@0xacad4d7bf9156ec1;

$import "/capnp/c++.capnp".namespace("spr::schema");

struct ObjectId {
  cluster @0 :Text;
  group @1 :Text;
  version @2 :Text;
  kind @3 :Text;
  namespace @4 :Text;
  name @5 :Text;
  uid @6 :Text;
}

enum WatchType {
  added @0;
  modified @1;
  deleted @2;
  bookmark @3;
}

struct Observed {
  cluster @0 :Text;
  type @1 :WatchType;
  objectJson @2 :Text;        # Secret data and credentials redacted (digest kept)
  resourceVersion @3 :Text;
  generation @4 :Int64;
  objectJsonDigest @5 :Data;  # schema >= 2: SHA-256 of objectJson, stored in `bodies` (objectJson then unset)
}

struct TimerFired {
  timer @0 :Text;
  token @1 :UInt64;
  dueUnixNanos @2 :Int64;
}

struct EffectRequested {
  effectId @0 :UInt64;
  command @1 :Text;
  inputJson @2 :Text;
  causeSeq @3 :UInt64;
  inputJsonDigest @4 :Data;  # schema >= 3: SHA-256 of inputJson, stored in `bodies` (inputJson then unset)
}

enum Outcome {
  succeeded @0;
  transientError @1;
  userError @2;
  unknown @3;
}

struct TapeEntry {
  cluster @0 :Text;
  method @1 :Text;
  path @2 :Text;
  requestBody @3 :Text;       # redacted
  status @4 :Int32;
  responseBody @5 :Text;      # redacted
  error @6 :Text;
  requestBodyDigest @7 :Data;   # schema >= 2: SHA-256 of requestBody, stored in `bodies`
  responseBodyDigest @8 :Data;  # schema >= 2: SHA-256 of responseBody, stored in `bodies`
  tapeDigest @9 :Data;          # schema >= 2: this entry alone stands for the whole tape, stored in `bodies` as a Tape
}

# A whole tape stored as one body (schema >= 2): its entries in stored form, so an
# unchanged poll's tape is the same body every time.
struct Tape {
  entries @0 :List(TapeEntry);
}

struct EffectCompleted {
  effectId @0 :UInt64;
  command @1 :Text;
  outcome @2 :Outcome;
  errorClass @3 :Text;
  message @4 :Text;
  resultJson @5 :Text;
  tape @6 :List(TapeEntry);
  reason @7 :Text;            # the provider's CamelCase reason (typed; before: in resultJson)
}

struct Transition {
  from @0 :Text;
  to @1 :Text;
  event @2 :Text;
  inputSeq @3 :UInt64;
  rejected @4 :Bool;          # the fold rejected the input (typed; before: the event's "rejected: ")
}

struct Snapshot {
  stateJson @0 :Text;
  throughSeq @1 :UInt64;
}

# One `spr run` process start (appended before restore): which build ran from when, so a
# timeline shows restarts. Never flag values (they may hold secrets): their digest only.
struct ProcessStarted {
  version @0 :Text;           # spr version
  build @1 :Text;             # build id (compiler, build type, commit when known)
  flagsDigest @2 :Text;       # hex SHA-256 over the flags as given, names and values
  flagNames @3 :Text;         # the names of the flags given, comma-separated (no values)
  hostname @4 :Text;          # the pod / host name
  pid @5 :Int64;
}

struct Record {
  seq @0 :UInt64;
  schemaVersion @1 :UInt32;
  wallUnixNanos @2 :Int64;
  object @3 :ObjectId;
  tenant @4 :Text;
  prevHash @5 :Data;          # SHA-256 of the previous record (32 bytes; zeros for seq 1)
  hash @6 :Data;              # SHA-256(prevHash || canonical Record with hash empty)
  payload :union {
    observed @7 :Observed;
    timerFired @8 :TimerFired;
    effectRequested @9 :EffectRequested;
    effectCompleted @10 :EffectCompleted;
    transition @11 :Transition;
    snapshot @12 :Snapshot;
    processStarted @13 :ProcessStarted;
  }
}
