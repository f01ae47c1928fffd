# Issues hypercalls through privcmd (from guest kernel mode) and checks the
# guest survives the ones kxen does not implement.  Debian's privcmd holds
# domU hypercalls until xenstore names a target domain, unless loaded with
# unrestricted=1.
insmod /lib/modules/xen-privcmd.ko unrestricted=1 || echo "insmod xen-privcmd failed"
xen-hcall 31 0 0          # xenoprof_op: not implemented
xen-hcall 17 99 0         # xen_version with an unknown sub-op
xen-hcall 60 0 0          # beyond the hypercall table
xen-hcall 17 0 0          # XENVER_version: implemented
xen-hcall 31 0 0          # again: logged once only
echo "AFTER-HCALL-OK"
