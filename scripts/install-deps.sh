#!/bin/bash
# install-deps.sh: install the pinned Debian packages kxen needs to build, test and run.
#
# Idempotent and unattended.  When every package is already installed it prints one line and
# exits 0 without touching apt (no "apt-get update"), so `make run` / `make test` stay fast.
# The kernel packages are pinned by exact ABI name (6.1.0-50): the test host boots that generic
# kernel, our kvm.ko is built against its headers, and guests boot that cloud kernel.
set -euo pipefail

KVER=6.1.0-50
# Debian version of the ${KVER} kernel packages.  linux-source-6.1 must be exactly this version
# too (bookworm-security carries newer ones whose kvm does not build against these headers), so
# the kernel packages are pinned as name=version and may be downgraded to it.
KPKGVER=6.1.176-1

PACKAGES=(
	# kernels: test host (generic, has 9p), guest (cloud), headers + source to rebuild kvm
	"linux-image-${KVER}-amd64-unsigned=$KPKGVER"
	"linux-image-${KVER}-cloud-amd64-unsigned=$KPKGVER"
	"linux-headers-${KVER}-amd64=$KPKGVER"
	"linux-source-6.1=$KPKGVER"
	# emulator and guest/test-host user space
	qemu-system-x86 busybox-static xenstore-utils
	# build tools
	gcc make pkg-config bc flex bison libelf-dev kmod cpio
	# the xenstore fuzz target (libFuzzer needs clang's runtime)
	clang-14 libclang-rt-14-dev
	# libraries
	libxen-dev libcmocka-dev liblz4-dev libzstd-dev liblzma-dev zlib1g-dev libbz2-dev
	# kxl top's screen
	libncurses-dev
	# block backend: io_uring for raw images and devices, libnbd + qemu-nbd for qcow2
	liburing-dev libnbd-dev qemu-utils
	# block and network benchmarks inside guests
	fio iperf3
	# compression tools (kernel images, initramfs), disks and networking
	bzip2 lz4 xz-utils zstd gzip e2fsprogs iproute2
	# vif-nat and the anti-spoofing rules of the vif hot-plug scripts
	dnsmasq-base nftables
)

# Prints the packages among "$@" (NAME or NAME=VERSION) that are not fully installed (state
# "ii"), or installed at another version, one per line.
not_installed() {
	local -A have=()
	local name status version spec
	while read -r name status version; do
		[[ $status == ii* ]] && have[$name]=$version
	done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev} ${Version}\n' "${@%%=*}" \
		2>/dev/null || true)
	for spec in "$@"; do
		name=${spec%%=*}
		if [[ -z ${have[$name]:-} ]]; then
			echo "$spec"
		elif [[ $spec == *=* && ${have[$name]} != "${spec#*=}" ]]; then
			echo "$spec"
		fi
	done
}

mapfile -t missing < <(not_installed "${PACKAGES[@]}")

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: error: must run as root to install packages (try: sudo $0)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
	--no-install-recommends --allow-downgrades)
if ! apt-get update -q; then
	echo "install-deps: error: 'apt-get update' failed (no network or broken sources?)" >&2
	exit 1
fi
if ! apt-get install "${apt_opts[@]}" "${missing[@]}"; then
	echo "install-deps: error: 'apt-get install' failed for: ${missing[*]}" >&2
	exit 1
fi

# Verify: a package that apt "installed" but is not in state ii is still a failure.
mapfile -t still < <(not_installed "${missing[@]}")
if [[ ${#still[@]} -ne 0 ]]; then
	echo "install-deps: error: still not installed after apt-get: ${still[*]}" >&2
	exit 1
fi
echo "install-deps: done"
