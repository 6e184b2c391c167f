/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dhub plugin ABI: the only thing a plugin and the kernel share. Plain C so that a plugin built with
 * one compiler and standard library loads into a kernel built with another. No C++ type, exception or
 * allocation ownership crosses it. Rules (docs/sdk.md):
 *  - a plugin exports exactly one symbol, dhub_plugin_entry(), returning static, data-only
 *    descriptors; reading them runs no plugin code;
 *  - every extensible struct starts with struct_size; fields are only ever appended; a reader accepts a
 *    smaller struct (missing fields count as zero) and never reads past struct_size;
 *  - the kernel loads a plugin built for SDK major == its major and minor <= its minor;
 *  - status 0 is success; -1..-99 are flow conditions; -100..-999 errors; <= -1000 plugin-private.
 */
#ifndef DHUB_SDK_ABI_H
#define DHUB_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "dhub/sdk/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define DHUB_PLUGIN_EXPORT __declspec(dllexport)
#else
#define DHUB_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---- status codes ------------------------------------------------------------------------------ */

typedef int32_t dhub_status;

#define DHUB_OK 0
/* flow conditions: not faults */
#define DHUB_STOPPING (-1)      /* the node is asked to stop; return from run() soon */
#define DHUB_TIMEOUT (-2)       /* nothing arrived / no space before the deadline */
#define DHUB_SKIP (-3)          /* handler: do not publish the output slot (e.g. decimation) */
#define DHUB_END_OF_STREAM (-4) /* a source has no more data (e.g. replay finished), or input closed */
/* errors defined by dhub */
#define DHUB_ERR_INVALID_ARGUMENT (-100)
#define DHUB_ERR_SCHEMA_MISMATCH (-101)
#define DHUB_ERR_NO_MEMORY (-102)
#define DHUB_ERR_IO (-103)
#define DHUB_ERR_ABI_MISMATCH (-104)
#define DHUB_ERR_UNAVAILABLE (-105)
#define DHUB_ERR_INTERNAL (-106)
#define DHUB_ERR_CHECKSUM (-107)      /* an input slot failed its checksum and was skipped */
#define DHUB_ERR_VALIDATION (-108)    /* a validator rejected a slot */
#define DHUB_ERR_PLUGIN_FIRST (-1000) /* plugin-private codes are <= this; they never leave the node */

/* ---- kinds, modes, log levels (0 is never valid) ---------------------------------------------------- */

typedef enum dhub_kind {
    DHUB_KIND_INVALID = 0,
    DHUB_KIND_SOURCE = 1,    /* writes: no input (with ports, any number of outputs) */
    DHUB_KIND_STAGE = 2,     /* reads and writes (with ports: correlators, tees, demultiplexers) */
    DHUB_KIND_SINK = 3,      /* reads: no output */
    DHUB_KIND_TRANSPORT = 4, /* carries a channel to another process or host */
    DHUB_KIND_VALIDATOR = 5  /* checks the slots of one channel */
} dhub_kind;

typedef enum dhub_mode {
    DHUB_MODE_INVALID = 0,
    DHUB_MODE_REALTIME = 1, /* the kernel's node thread calls process() per slot (process_burst() per burst) */
    DHUB_MODE_QUEUE = 2     /* the plugin drives: run() pushes/pulls slots through the host API */
} dhub_mode;

typedef enum dhub_log_level {
    DHUB_LOG_INVALID = 0,
    DHUB_LOG_TRACE = 1,
    DHUB_LOG_DEBUG = 2,
    DHUB_LOG_INFO = 3,
    DHUB_LOG_WARN = 4,
    DHUB_LOG_ERROR = 5
} dhub_log_level;

/* ---- slots -------------------------------------------------------------------------------------------- */

/* A slot as a handler sees it: in place in shared memory, valid only during the call that received it. */
typedef struct dhub_slot {
    uint32_t struct_size;
    uint32_t reserved;
    void* data;            /* input slots: read only (const in the C++ layer) */
    uint64_t bytes;        /* input: committed length; output: set by the handler (default: capacity) */
    uint64_t capacity;     /* slot size of the channel */
    uint64_t sequence;     /* input: the producer's sequence; output: the sequence it will get */
    uint64_t timestamp_ns; /* input: producer's stamp; output: 0 = stamped at commit (CLOCK_MONOTONIC),
                              or the handler's own stamp (e.g. the instrument's hardware time) */
} dhub_slot;

/* ---- ports (since SDK 1.2) ------------------------------------------------------------------------------ */

/* A port's direction. Fixed width on purpose: a C enum's size is the compiler's choice, a descriptor's layout
   must not be. */
typedef uint32_t dhub_port_direction;
#define DHUB_PORT_INPUT ((dhub_port_direction)1)
#define DHUB_PORT_OUTPUT ((dhub_port_direction)2)

/* dhub_port_descriptor.flags */
#define DHUB_PORT_OPTIONAL 1u /* the graph may leave the port unwired */
#define DHUB_PORT_MANY 2u     /* the graph binds a list of channels to it ("inputs": {"in": ["a", "b"]}) */

/* One port of a component: what it reads or writes. The host API's port indices count the channels bound to a
   node's ports of one direction in declaration order (a MANY port takes as many indices as it has channels;
   an unwired optional port takes none); port_range() gives a named port's indices. */
typedef struct dhub_port_descriptor {
    uint32_t struct_size;
    dhub_port_direction direction;
    const char* name;        /* identifier, unique among the component's ports ("camera", "in", "unmatched") */
    const char* schema;      /* schema id written / expected ("lab.frame@1"); NULL or "*": any */
    uint64_t min_slot_bytes; /* smallest slot the port needs; 0 = any size */
    uint32_t flags;          /* DHUB_PORT_OPTIONAL | DHUB_PORT_MANY */
    uint32_t reserved;
    const char* description; /* optional, one line */
} dhub_port_descriptor;

/* ---- the host: what the kernel offers a node ------------------------------------------------------- */

typedef struct dhub_node dhub_node; /* opaque, one per node; passed back to every host call */

/* dhub_channel_info.sync: the channel's consumer sync policy (docs/graph.md). */
#define DHUB_SYNC_LATEST_ONLY 1u
#define DHUB_SYNC_SINGLE_READER 2u
#define DHUB_SYNC_EVERY_READER 3u

/* The channel on one of a node's ports as its segment describes it (since SDK 1.5): what a transport checks
   against the far end before it carries a slot. */
typedef struct dhub_channel_info {
    uint32_t struct_size;
    uint32_t slot_count;     /* slots in the ring */
    uint64_t slot_bytes;     /* payload bytes of one slot */
    uint64_t flex_bytes;     /* size of the flex zone (0: none) */
    uint32_t sync;           /* DHUB_SYNC_* */
    uint32_t latest_reader;  /* inputs: non-zero when this node reads it latest-only (its own or the channel's) */
    const char* name;        /* the channel's name in this kernel; owned by the kernel, valid as long as the node */
    uint8_t schema_hash[32]; /* the schema's hash stored in the segment (docs/schemas.md); all zero: unchecked */
} dhub_channel_info;

typedef struct dhub_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /* Logging: the kernel prefixes every line with the node ([kind:component:node-id]). Any thread. */
    void (*log)(dhub_node* node, dhub_log_level level, const char* message);
    /* Reports a runtime error to the kernel, which counts it and applies the node's error policy. */
    void (*report_error)(dhub_node* node, dhub_status code, const char* message);
    /* CLOCK_MONOTONIC in ns, the clock of slot timestamps. */
    uint64_t (*now_ns)(void);
    /* Non-zero once the node is asked to stop. Any thread. */
    int (*stop_requested)(dhub_node* node);
    /* Sleeps until deadline_ns (CLOCK_MONOTONIC); returns DHUB_STOPPING early if asked to stop. */
    dhub_status (*sleep_until)(dhub_node* node, uint64_t deadline_ns);

    /* Parameters, validated and defaulted by the kernel against the component's params schema.
       Strings are owned by the kernel and live as long as the node. DHUB_ERR_INVALID_ARGUMENT for an
       unknown name or a wrong type. */
    dhub_status (*param_number)(dhub_node* node, const char* name, double* value);
    dhub_status (*param_integer)(dhub_node* node, const char* name, int64_t* value);
    dhub_status (*param_bool)(dhub_node* node, const char* name, int* value);
    dhub_status (*param_string)(dhub_node* node, const char* name, const char** value);
    /* The whole parameter object as JSON text (owned by the kernel). */
    const char* (*params_json)(dhub_node* node);

    /* Queue mode: the plugin moves slots itself. port is the index in the node's outputs / inputs.
       A slot acquired must be committed/aborted (write) or released (read) before the next acquire on
       the same port. One thread at a time per port. timeout_ns < 0 waits until stop. On a channel with
       validators, commit judges the slot first; one they reject is not published, and commit still returns
       DHUB_OK (the slot is handled: the kernel counts and logs the rejection). */
    dhub_status (*acquire_write)(dhub_node* node, uint32_t port, int64_t timeout_ns, dhub_slot* slot);
    dhub_status (*commit)(dhub_node* node, uint32_t port, uint64_t bytes, uint64_t timestamp_ns); /* 0: now */
    dhub_status (*abort_write)(dhub_node* node, uint32_t port);
    dhub_status (*acquire_read)(dhub_node* node, uint32_t port, int64_t timeout_ns, dhub_slot* slot);
    dhub_status (*release)(dhub_node* node, uint32_t port);

    /* Flex zone of a channel (shared metadata, consistent snapshots). direction 0 = input port, 1 = output
       port. read copies at most capacity bytes and stores the size the writer wrote in *bytes. */
    dhub_status (*flex_read)(
        dhub_node* node, uint32_t direction, uint32_t port, void* buffer, uint64_t capacity, uint64_t* bytes);
    dhub_status (*flex_write)(dhub_node* node, uint32_t direction, uint32_t port, const void* data, uint64_t bytes);

    /* A small text message to the other nodes on the channel of this port (delivered to their
       on_message between two of their handler calls). At most 4096 bytes. */
    dhub_status (*send_message)(dhub_node* node, uint32_t direction, uint32_t port, const char* message);

    /* ---- SDK 1.2 (absent from a 1.1 kernel's table: check struct_size, as NodeContext does) ---- */
    /* The schema id of the channel on a port (direction 0 = input, 1 = output) as the graph resolved it:
       the producer's declared output schema, else the channel's "schema"; "*" when nothing names one (and for
       an input from another kernel that a "*" component reads: the broker carries only the schema's hash).
       Owned by the kernel, valid as long as the node. NULL for a port that does not exist. */
    const char* (*port_schema)(dhub_node* node, uint32_t direction, uint32_t port);
    /* The indices (for the calls above; direction 0 = input, 1 = output) of the channels bound to the named
       port: [*first, *first + *count). count 0: an optional port the graph left unwired.
       DHUB_ERR_INVALID_ARGUMENT: the component declares no such port. */
    dhub_status (*port_range)(dhub_node* node, uint32_t direction, const char* port, uint32_t* first, uint32_t* count);
    /* Since 1.2. The typed schema (docs/schemas.md) of the channel on a port, as a JSON document: fields,
       dtypes, shapes, size. NULL when the channel's schema is an opaque id, "*", or the port does not exist.
       A validator's port 0 input is the channel it guards. Owned by the kernel, valid as long as the node. */
    const char* (*port_schema_document)(dhub_node* node, uint32_t direction, uint32_t port);

    /* ---- SDK 1.5 (check struct_size, as NodeContext does) ---- */
    /* The channel on a port (direction 0 = input, 1 = output): geometry, sync policy, schema hash. Fills at most
       info->struct_size bytes. DHUB_ERR_INVALID_ARGUMENT for a port that does not exist; DHUB_ERR_UNAVAILABLE
       for an input from another kernel that is not attached yet. */
    dhub_status (*channel_info)(dhub_node* node, uint32_t direction, uint32_t port, dhub_channel_info* info);
    /* Output ports: count slots lost before they reached this channel, such as the sequence numbers a
       transport's far producer committed that never arrived. Added to the channel's upstream_lost (dhub-shm
       inspect) and the node's report. Any thread. */
    dhub_status (*count_upstream_loss)(dhub_node* node, uint32_t port, uint64_t count);

    /* ---- SDK 1.6 (check struct_size, as NodeContext does) ---- */
    /* Queue mode, lossless inputs: a window onto the input's unreleased slots, for a component that hands slots
       to another library without copying them (a transport sending from shared memory). The first `skip`
       unreleased slots are the ones the component has seen already; the call fills slots[0, *count) with up to
       max committed slots after them, oldest first, and releases nothing: every unreleased slot stays valid and
       unchanged (the producer cannot pass it) until release_oldest hands it back. Kept slots after skip come back
       at once; otherwise it waits (timeout_ns as for acquire_read) until a new slot is committed. Statuses as
       acquire_read (DHUB_ERR_CHECKSUM also for a new slot that failed its checksum right after the kept ones: it
       is skipped once they are handed back); DHUB_ERR_INVALID_ARGUMENT on a latest-only input, while a slot of
       acquire_read is held, or for a skip beyond the slots kept. acquire_read is refused while slots are kept. */
    dhub_status (*peek_read)(dhub_node* node,
                             uint32_t port,
                             int64_t timeout_ns,
                             uint32_t skip,
                             uint32_t max,
                             dhub_slot* slots,
                             uint32_t* count);
    /* Hands back the count oldest unreleased slots of peek_read (counted as read); the others stay kept. */
    dhub_status (*release_oldest)(dhub_node* node, uint32_t port, uint32_t count);
} dhub_host_api;

/* ---- what a component does ----------------------------------------------------------------------------- */

/* Arguments of one process() call (realtime mode). input is NULL for sources, output NULL for sinks and
   validators. Return DHUB_OK to publish the output, DHUB_SKIP not to, DHUB_END_OF_STREAM to finish the
   node, or an error (counted; the node's error policy decides). */
typedef struct dhub_process_args {
    uint32_t struct_size;
    uint32_t reserved;
    const dhub_slot* input;
    dhub_slot* output;
} dhub_process_args;

/* Arguments of one process_burst() call (since SDK 1.1): several consecutive slots of one channel at once,
   so that the kernel hands them over with one publication (sources) or one release (sinks) and one call.
   A source gets outputs[0..count): it fills a prefix, sets filled, and outputs[0..filled) are published in
   order (their bytes and timestamp_ns as for process(); filled > count counts as count); the rest are
   given back unpublished. A sink gets inputs[0..count), read only, released together after the call.
   A stage (since 1.2) gets both, count of each: the committed input slots and as many free output slots,
   whichever are fewer. It publishes outputs[0..filled) as a source does and releases inputs[0..consumed),
   so an n:1 stage (decimate, averaging) fills fewer than it consumes; the inputs it did not consume are
   offered again, first, in the next call, which the kernel makes only once more input has arrived (or the
   input closed). */
typedef struct dhub_burst_args {
    uint32_t struct_size;
    uint32_t count;          /* slots offered (>= 1) */
    const dhub_slot* inputs; /* sinks, stages: count slots in sequence order; NULL for sources */
    dhub_slot* outputs;      /* sources, stages: count slots in sequence order; NULL for sinks */
    uint32_t filled;         /* sources, stages: how many of outputs, from the first, to publish (0 before the call) */
    uint32_t consumed;       /* stages (1.2; reserved before): how many of inputs, from the first, are done
                                (count before the call; more than count counts as count) */
} dhub_burst_args;

/* One input of a process_ports() call (since SDK 1.2). */
typedef enum dhub_input_state_values {
    DHUB_INPUT_EMPTY = 0, /* nothing waiting on this input now */
    DHUB_INPUT_READY = 1, /* slots hold the oldest unread slots (lossless) or the newest one (latest-only) */
    DHUB_INPUT_CLOSED = 2 /* its producer closed the channel and every slot was read */
} dhub_input_state_values;

typedef struct dhub_port_input {
    uint32_t struct_size;
    uint32_t state;         /* a dhub_input_state_values value */
    uint32_t count;         /* READY: slots in hand, oldest first, in sequence order (this kernel offers one) */
    uint32_t release;       /* READY: count when called; how many of them, from the first, to release after the
                               call. The rest stay in hand and are offered first in the next call (0 keeps all) */
    const dhub_slot* slots; /* READY: count slots, read only, valid until released */
} dhub_port_input;

/* Arguments of one process_ports() call (since SDK 1.2), for realtime components with several inputs or
   outputs. The kernel calls it when an input got a slot or closed, and every 100 ms while slots are kept
   and nothing arrives (so a component can stop waiting for a partner: compare context time with the slots'
   timestamps); with no input, in a loop, as a source. inputs[i] is input index i (port_range); the array's
   elements are inputs[0].struct_size bytes apart. Outputs are written with the host's acquire_write/commit
   on output indices, as many per call as the component likes. Returns as process() does (DHUB_SKIP: nothing
   to report). When every input is closed and no slot is kept, the node ends; the call that saw the last input
   close is the component's chance to flush (every input CLOSED). While it runs, the host's acquire_read and
   release refuse the node's inputs: the kernel holds them. */
typedef struct dhub_port_args {
    uint32_t struct_size;
    uint32_t input_count;
    dhub_port_input* inputs;
    uint32_t output_count;
    uint32_t reserved;
} dhub_port_args;

/* Validator verdict. message (NUL-terminated, truncated to message_capacity) says why. */
typedef struct dhub_validation {
    uint32_t struct_size;
    int32_t valid; /* non-zero: the slot is acceptable */
    char* message;
    uint64_t message_capacity;
    /* Since 1.2 (write them only when struct_size covers them): a short, stable name for the kind of
       rejection ("out_of_range", "nan", "length"), NUL-terminated, at most kind_capacity bytes. The kernel
       counts rejections per validator and kind; left empty, the kind is "rejected". */
    char* kind;
    uint64_t kind_capacity;
} dhub_validation;

typedef struct dhub_component_descriptor {
    uint32_t struct_size;
    dhub_kind kind;
    const char* id;   /* "<vendor>.<kind>.<name>", unique across loaded plugins */
    uint32_t version; /* the component's own version, integer */
    dhub_mode mode;
    const char* description; /* one line */
    /* JSON array: [{"name","type":"number|integer|boolean|string","default","min","max","enum":[...],
       "unit","doc","live"}]. Unknown keys in a node's params are errors. "live": true (since 1.4): the
       parameter may be changed while the node runs; the component then has on_param. */
    const char* params_schema_json;
    /* Slot schema ids ("dhub.waveform.f64@1"; "*" accepts any) written and expected; NULL if no such port. */
    const char* output_schema;
    const char* input_schema;
    /* Smallest slot (bytes) the component needs on its output / input channel; 0 = any size. */
    uint64_t output_min_slot_bytes;
    uint64_t input_min_slot_bytes;

    /* Required for every kind. create gets the host API and the node handle, which stay valid until
       destroy; it stores its instance in *instance. */
    dhub_status (*create)(const dhub_host_api* host, dhub_node* node, void** instance);
    void (*destroy)(void* instance);
    /* Optional: called on the node thread before the first slot / after the last one. One exception: when a
       swap (dhub-ctl swap) stopped this instance for a new one whose start then failed, this instance is started
       again and runs on, so a start may follow a stop once. */
    dhub_status (*start)(void* instance);
    void (*stop)(void* instance);
    /* Realtime mode (sources, stages, sinks): one slot. */
    dhub_status (*process)(void* instance, const dhub_process_args* args);
    /* Queue mode: drives the node until stop_requested() or end of stream. */
    dhub_status (*run)(void* instance);
    /* Validators: judges one input slot. */
    dhub_status (*validate)(void* instance, const dhub_slot* slot, dhub_validation* verdict);
    /* Optional: a message from another node on one of this node's channels. */
    void (*on_message)(void* instance, const char* channel, const char* message);
    /* Transports (DHUB_KIND_TRANSPORT, queue mode): run() opens the far end its params describe and moves
       slots with the queue-mode host calls, a sender reading its one input, a receiver writing its one output
       (docs/transports.md; channel_info and count_upstream_loss since 1.5). */

    /* Since 1.1. Optional, realtime sources and sinks (and since 1.2 stages with one input and one output):
       several slots per call (dhub_burst_args). The kernel uses it instead of process() when the node's
       "burst" is above 1; process() stays required (burst 1). Status as for process(), counted once per
       call: DHUB_OK, DHUB_END_OF_STREAM (filled slots are still published), DHUB_STOPPING, or an error
       (counted; filled slots published, consumed ones released). */
    dhub_status (*process_burst)(void* instance, dhub_burst_args* args);

    /* Since 1.2. The component's ports. Without them (port_count 0, as in 1.0/1.1 plugins) the kind gives
       them: sources one output "out", sinks and validators one input "in", stages both; their schema and
       size are output_schema / input_schema and *_min_slot_bytes above, which a component with ports leaves
       NULL / 0. A realtime component with more than one input or output port, or with a MANY port, needs
       process_ports (its process may be NULL); kinds describe its role. */
    uint32_t port_count;
    uint32_t reserved_ports;
    const dhub_port_descriptor* ports; /* port_count elements, each ports[0].struct_size bytes apart */
    dhub_status (*process_ports)(void* instance, dhub_port_args* args);
    /* Since 1.2. Optional: the typed schemas of the component's ports, as a JSON array of schema documents
       (docs/schemas.md), each the document of a schema id one of its ports names. NULL, or NULL returned:
       none (a graph may still declare them). Called when the plugin is loaded; the text stays valid while
       the plugin is loaded. The C++ layer builds it from struct descriptions (dhub/sdk/struct_schema.hpp). */
    const char* (*schema_documents)(void);
    /* Since 1.2. Optional, validators: judges slots[0..count) of one channel in order and stops at the first
       it rejects. *accepted is the number of leading slots it accepted; below count, slots[*accepted] is
       rejected and verdict says why. The kernel uses it for a burst instead of one validate() call per slot;
       an error status counts as a rejection of slots[*accepted] (a slot nobody vouched for is never
       published). The C++ layer builds it from validate(). */
    dhub_status (*validate_burst)(
        void* instance, const dhub_slot* slots, uint32_t count, uint32_t* accepted, dhub_validation* verdict);

    /* Since 1.3. Optional: parameters whose declaration depends on the node, such as those of the Python class
       the python plugin's "module" and "class" name. Given a node's params as a JSON object (those of
       params_schema_json checked and defaulted, the others as the graph wrote them), returns a JSON array in
       params_schema_json's form declaring the others, or {"error": "what is wrong and what to do"}. The text
       stays valid until the next call on the same thread. A component with it takes keys params_schema_json
       does not declare: `dhub-kernel --validate` and `--describe PLUGIN --params JSON` call it and check them
       like declared ones, but a running kernel never calls it (it may load code, as importing a Python module
       does, that an isolated node keeps out of the kernel's process) and passes them to create() unchecked:
       create() checks them itself. */
    const char* (*node_params_schema)(const char* node_params_json);

    /* Since 1.4. Optional, and required when params_schema_json marks a parameter "live": true: that parameter
       was changed while the node runs (dhub-ctl params set). Called on the node's thread between two handler
       calls (never during one), after the kernel checked the new value against the declaration and made it what
       the param_* calls and params_json return; name says which. DHUB_OK keeps it; an error puts the old value
       back (what the component logged at warn or error level says why). */
    dhub_status (*on_param)(void* instance, const char* name);
} dhub_component_descriptor;

typedef struct dhub_plugin_descriptor {
    /* Frozen forever: any future kernel can read these five and explain a mismatch. */
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char* name;    /* must equal the file stem: libdhub-<name>.so is wrong, dhub-<name>.so is right */
    const char* version; /* the plugin's own version string */
    /* Since 1.0 */
    const char* license;
    const char* description;
    uint32_t component_count;
    const dhub_component_descriptor* const* components;
    /* Since 1.2. Optional, plugin-wide, for vendor driver libraries that initialise once per process: the
       kernel calls init once before the first create of any of the plugin's components in a run (never for
       --validate or --describe) and shutdown once after the last destroy. An init error fails the run's set-up
       with the text init wrote to message (NUL-terminated, at most message_capacity bytes). */
    dhub_status (*init)(char* message, uint64_t message_capacity);
    void (*shutdown)(void);
} dhub_plugin_descriptor;

/* The one exported symbol. */
#define DHUB_PLUGIN_ENTRY_SYMBOL "dhub_plugin_entry"
typedef const dhub_plugin_descriptor* (*dhub_plugin_entry_fn)(void);

/* Helpers for status codes. */
static inline int dhub_status_is_error(dhub_status status) {
    return status <= DHUB_ERR_INVALID_ARGUMENT;
}

/* The status as one lower-case phrase ("end of stream", "schema mismatch"), for log lines and reports. The
   one definition: the kernel, the SDK's C++ layer and its test harness all print statuses with it. */
static inline const char* dhub_status_name(dhub_status status) {
    switch (status) {
        case DHUB_OK:
            return "ok";
        case DHUB_STOPPING:
            return "stopping";
        case DHUB_TIMEOUT:
            return "timeout";
        case DHUB_SKIP:
            return "skip";
        case DHUB_END_OF_STREAM:
            return "end of stream";
        case DHUB_ERR_INVALID_ARGUMENT:
            return "invalid argument";
        case DHUB_ERR_SCHEMA_MISMATCH:
            return "schema mismatch";
        case DHUB_ERR_NO_MEMORY:
            return "no memory";
        case DHUB_ERR_IO:
            return "I/O error";
        case DHUB_ERR_ABI_MISMATCH:
            return "ABI mismatch";
        case DHUB_ERR_UNAVAILABLE:
            return "unavailable";
        case DHUB_ERR_INTERNAL:
            return "internal error";
        case DHUB_ERR_CHECKSUM:
            return "checksum mismatch";
        case DHUB_ERR_VALIDATION:
            return "validation failed";
        default:
            return status <= DHUB_ERR_PLUGIN_FIRST ? "plugin-specific error" : "unknown status";
    }
}

#ifdef __cplusplus
}
#endif

#endif /* DHUB_SDK_ABI_H */
