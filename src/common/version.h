/* The Xen version whose ABI kxen implements, as guests see it
 * (XENVER_version, XENVER_extraversion, XENVER_capabilities) and as
 * `kxl info` reports it. */
#ifndef KXEN_COMMON_VERSION_H
#define KXEN_COMMON_VERSION_H

#define KXEN_XEN_MAJOR 4
#define KXEN_XEN_MINOR 17
#define KXEN_EXTRAVERSION ".0-kxen"
#define KXEN_XEN_CAPS "hvm-3.0-x86_64"

#endif
