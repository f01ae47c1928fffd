# Issues hypercalls kxen does not implement and checks the guest survives.
insmod /lib/modules/xen-privcmd.ko 2>/dev/null || modprobe xen-privcmd 2>/dev/null
xen-hcall 31 0 0          # xenoprof_op: not implemented
xen-hcall 17 99 0         # xen_version with an unknown sub-op
xen-hcall 60 0 0          # beyond the hypercall table
xen-hcall 17 0 0          # XENVER_version: implemented
echo "AFTER-HCALL-OK"
