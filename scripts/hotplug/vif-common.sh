# vif-common.sh: sourced by kxen's vif hot-plug scripts (vif-bridge, vif-route,
# vif-nat), as Xen's tools/hotplug/Linux/vif-common.sh is by Xen's.  The
# environment is Xen's: XENBUS_PATH (the vif's backend directory), vif (the
# host interface, vif<domid>.<devid>); the command is $1 (online, add,
# offline, remove).  The backend's "ip" key (ip= in the vif spec, addresses
# separated by spaces) turns on anti-spoofing: an nftables chain in table
# "kxen" drops what arrives from $vif with another IPv4 source address (and
# ARP with another sender address); DHCP requests from 0.0.0.0 pass.
# shellcheck disable=SC2034 # used by the scripts that source this file
command=${1:-$command}
script_name=$(basename "$0")
: "${vif:?$script_name: vif is not set}" "${XENBUS_PATH:?$script_name: XENBUS_PATH is not set}"

xs_read() { xenstore-read "$XENBUS_PATH/$1" 2>/dev/null || printf '%s\n' "$2"; }
xs_write() { xenstore-write "$XENBUS_PATH/$1" "$2" 2>/dev/null; }
fatal() {
	echo "$script_name: $*" >&2
	xs_write hotplug-error "$*"
	xs_write hotplug-status error
	exit 1
}

# domid and devid from the backend path .../backend/vif/<domid>/<devid>.
devid=${XENBUS_PATH##*/}
domid=${XENBUS_PATH%/*}
domid=${domid##*/}
# The IPv4 addresses of ip= (prefixes dropped; IPv6 ones are not filtered).
ip=$(xs_read ip "${ip:-}")
ip4s=
for a in $ip; do
	case ${a%%/*} in *.*.*.*) ip4s="$ip4s${ip4s:+, }${a%%/*}" ;; esac
done
# An nftables chain name for this vif.
spoof_chain=spoof_$(printf '%s' "$vif" | tr -c 'A-Za-z0-9_\n' _)
run_dir=${KXEN_RUN_DIR:-/run/kxen}

# nft_ready [MODULE...]: nft is there, nf_tables and MODULEs loaded (for
# hosts without module autoloading).
nft_ready() {
	command -v nft >/dev/null || return 1
	for m in nf_tables "$@"; do
		[ -d "/sys/module/$m" ] || modprobe -q "$m" 2>/dev/null
	done
	return 0
}

# antispoof_add FAMILY: FAMILY "bridge" (vif on a bridge) or "ip" (routed).
antispoof_add() {
	[ -n "$ip4s" ] || return 0
	if [ "$1" = bridge ]; then
		nft_ready nft_meta_bridge || fatal "ip= needs nft (nftables) for anti-spoofing"
	else
		nft_ready || fatal "ip= needs nft (nftables) for anti-spoofing"
	fi
	antispoof_del
	if [ "$1" = bridge ]; then
		nft -f - <<NFT || fatal "cannot add the anti-spoofing rules for $vif"
table bridge kxen {}
table bridge kxen {
	chain $spoof_chain {
		type filter hook prerouting priority -200; policy accept;
		iifname "$vif" ip saddr 0.0.0.0 udp dport 67 accept
		iifname "$vif" ip saddr != { $ip4s } drop
		iifname "$vif" arp saddr ip != { 0.0.0.0, $ip4s } drop
	}
}
NFT
	else
		nft -f - <<NFT || fatal "cannot add the anti-spoofing rules for $vif"
table ip kxen {}
table ip kxen {
	chain $spoof_chain {
		type filter hook prerouting priority -200; policy accept;
		iifname "$vif" ip saddr 0.0.0.0 udp dport 67 accept
		iifname "$vif" ip saddr != { $ip4s } drop
	}
}
table arp kxen {}
table arp kxen {
	chain $spoof_chain {
		type filter hook input priority 0; policy accept;
		iifname "$vif" arp saddr ip != { 0.0.0.0, $ip4s } drop
	}
}
NFT
	fi
}

# Removes this vif's chains, whatever the mode; the tables stay (shared).
antispoof_del() {
	command -v nft >/dev/null || return 0
	for fam in bridge ip arp; do
		nft list chain $fam kxen "$spoof_chain" >/dev/null 2>&1 || continue
		nft flush chain $fam kxen "$spoof_chain" 2>/dev/null
		nft delete chain $fam kxen "$spoof_chain" 2>/dev/null
	done
	return 0
}
