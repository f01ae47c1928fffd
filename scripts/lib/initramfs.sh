# scripts/lib/initramfs.sh: helpers shared by the scripts that build initramfs images
# (scripts/testhost/build.sh, scripts/build-guest-image.sh).  Sourced, not run.
# shellcheck shell=bash

# stale OUT INPUT...: true when OUT must be rebuilt: it is missing, or an INPUT (file or
# directory; a directory's mtime changes when entries are added or removed) is newer or missing.
stale() {
	local out=$1 in
	shift
	[[ -e $out ]] || return 0
	for in in "$@"; do
		[[ -e $in ]] || return 0
		[[ $in -nt $out ]] && return 0
	done
	return 1
}

# mods_resolve MODDIR NAME...: print, in insmod order (dependencies first, no repeats), the
# paths relative to MODDIR of the modules NAME and everything they depend on, per MODDIR's
# modules.dep.  Names compare with '-' and '_' alike.  Fails for a name that is not a module.
mods_resolve() {
	local moddir=$1
	shift
	awk -v want="$*" '
	function norm(p,  b) {
		b = p; sub(/.*\//, "", b); sub(/\.ko(\.(xz|zst|gz))?$/, "", b)
		gsub(/-/, "_", b); return b
	}
	# modules.dep lists the dependencies so that the last one is loaded first.
	function visit(m,  i, n, d) {
		if (m in done) return
		done[m] = 1
		n = split(deps[m], d, " ")
		for (i = n; i >= 1; i--) visit(norm(d[i]))
		print path[m]
	}
	{
		p = $1; sub(/:$/, "", p); m = norm(p)
		path[m] = p; $1 = ""; deps[m] = $0
	}
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			m = w[i]; gsub(/-/, "_", m)
			if (!(m in path)) { print "no such module: " w[i] > "/dev/stderr"; exit 1 }
			visit(m)
		}
	}' "$moddir/modules.dep"
}

# mod_install MODDIR RELPATH DESTDIR: copy one module into DESTDIR as <name>.ko, decompressing
# it (busybox insmod cannot read .ko.xz/.ko.zst).  Prints the installed file name.
mod_install() {
	local src=$1/$2 base
	base=${2##*/}
	case $base in
	*.ko.xz) base=${base%.xz}; xz -dc "$src" >"$3/$base" ;;
	*.ko.zst) base=${base%.zst}; zstd -qdc "$src" >"$3/$base" ;;
	*.ko.gz) base=${base%.gz}; gzip -dc "$src" >"$3/$base" ;;
	*.ko) cp "$src" "$3/$base" ;;
	*) echo "mod_install: not a module: $src" >&2; return 1 ;;
	esac
	echo "$base"
}

# busybox_install ROOT: put the static busybox in ROOT/bin with a link per applet, so an
# initramfs does not have to run "busybox --install" at boot.
busybox_install() {
	local root=$1 applet
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
	cp /bin/busybox "$root/bin/busybox"
	# "--list-full" prints paths such as "usr/bin/awk"; link each one to /bin/busybox.
	while read -r applet; do
		[[ -e $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
	done < <("$root/bin/busybox" --list-full)
}

# cpio_pack ROOT OUT: pack directory ROOT as a gzip'd newc cpio archive, files owned by root,
# written atomically to OUT.
cpio_pack() {
	local root=$1 out=$2
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc --owner=0:0 --reproducible) | gzip -9n >"$out.tmp"
	mv -f "$out.tmp" "$out"
}

# recipe_changed STAMP TEXT: true when TEXT (a description of how an output is made, such as
# "declare -f" of the function that makes it) differs from what STAMP recorded last time.
# recipe_record STAMP TEXT records it once the output is made.  Editing an unrelated part of a
# build script then does not rebuild everything.
recipe_changed() {
	[[ ! -f $1 ]] || [[ $(cat "$1") != "$(printf '%s' "$2" | sha256sum)" ]]
}
recipe_record() {
	printf '%s' "$2" | sha256sum >"$1"
}
