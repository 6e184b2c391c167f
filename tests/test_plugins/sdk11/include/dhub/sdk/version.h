/* SPDX-License-Identifier: Apache-2.0 */
/* SDK 1.1.0 as released (version.h.in filled in): the SDK version plugins are compiled against. */
#ifndef DHUB_SDK_VERSION_H
#define DHUB_SDK_VERSION_H

#define DHUB_SDK_VERSION_MAJOR 1
#define DHUB_SDK_VERSION_MINOR 1
#define DHUB_SDK_VERSION_PATCH 0
#define DHUB_SDK_VERSION_STRING "1.1.0"

/* True when the SDK is at least major.minor.patch. */
#define DHUB_SDK_CHECK_VERSION(major, minor, patch)                                                                 \
    (DHUB_SDK_VERSION_MAJOR > (major) || (DHUB_SDK_VERSION_MAJOR == (major) && DHUB_SDK_VERSION_MINOR > (minor)) || \
     (DHUB_SDK_VERSION_MAJOR == (major) && DHUB_SDK_VERSION_MINOR == (minor) && DHUB_SDK_VERSION_PATCH >= (patch)))

#endif /* DHUB_SDK_VERSION_H */
