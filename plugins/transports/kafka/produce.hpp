// SPDX-License-Identifier: Apache-2.0
// One record handed to a librdkafka producer, through rd_kafka_produceva: librdkafka's RD_KAFKA_V_* argument
// macros are GNU statement expressions, which a pedantic build refuses. Shared by the publisher, its tests and
// the bench (header only: they link librdkafka themselves).
#pragma once

#include <cstddef>
#include <string_view>

#include <librdkafka/rdkafka.h>

namespace dhub::kafka_transport {

/// What rd_kafka_producev would return. The value is copied (RD_KAFKA_MSG_F_COPY); headers (may be null) become
/// the record's on success and stay the caller's on failure; opaque comes back in the delivery report.
inline rd_kafka_resp_err_t produce(rd_kafka_t* producer,
                                   const char* topic,
                                   std::string_view key,
                                   const void* value,
                                   std::size_t size,
                                   rd_kafka_headers_t* headers = nullptr,
                                   void* opaque = nullptr) {
    rd_kafka_vu_t fields[6] = {};
    std::size_t count = 0;
    fields[count].vtype = RD_KAFKA_VTYPE_TOPIC;
    fields[count++].u.cstr = topic;
    fields[count].vtype = RD_KAFKA_VTYPE_KEY;
    fields[count].u.mem.ptr = const_cast<char*>(key.data());  // copied, never written
    fields[count++].u.mem.size = key.size();
    fields[count].vtype = RD_KAFKA_VTYPE_VALUE;
    fields[count].u.mem.ptr = const_cast<void*>(value);  // copied, never written
    fields[count++].u.mem.size = size;
    fields[count].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    fields[count++].u.i = RD_KAFKA_MSG_F_COPY;
    fields[count].vtype = RD_KAFKA_VTYPE_OPAQUE;
    fields[count++].u.ptr = opaque;
    if (headers != nullptr) {
        fields[count].vtype = RD_KAFKA_VTYPE_HEADERS;
        fields[count++].u.headers = headers;
    }
    rd_kafka_error_t* error = rd_kafka_produceva(producer, fields, count);
    if (error == nullptr) return RD_KAFKA_RESP_ERR_NO_ERROR;
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return code;
}

}  // namespace dhub::kafka_transport
