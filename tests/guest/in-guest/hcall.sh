# Issues hypercalls through privcmd (from guest kernel mode) and checks the
# guest survives the ones kxen does not implement and the hostile ones.
# Debian's privcmd holds domU hypercalls until xenstore names a target
# domain, unless loaded with unrestricted=1.
insmod /lib/modules/xen-privcmd.ko unrestricted=1 || echo "insmod xen-privcmd failed"
xen-hcall 31 0 0          # xenoprof_op: not implemented
xen-hcall 17 99 0         # xen_version with an unknown sub-op
xen-hcall 60 0 0          # beyond the hypercall table
xen-hcall 17 0 0          # XENVER_version: implemented
xen-hcall 31 0 0          # again: logged once only
# Hostile: each line is "HOSTILE what" then the answer.
echo "HOSTILE unmapped pointer"; xen-hcall 17 1 0xffff8000deadb000   # extraversion -> EFAULT
echo "HOSTILE send on free port"; xen-hcall 32 4 @u32:4000            # EVTCHNOP_send -> EINVAL
echo "HOSTILE send beyond ports"; xen-hcall 32 4 @u32:99999           # -> EINVAL
echo "HOSTILE bind_virq bad vcpu"; xen-hcall 32 1 @u32:0,7            # VIRQ_TIMER on vCPU 7 -> EINVAL
echo "HOSTILE close port 0"; xen-hcall 32 3 @u32:0                    # -> EINVAL
echo "HOSTILE vcpu_info bad vcpu"; xen-hcall 24 10 9 @u32:1,0         # vCPU 9 -> ENOENT
echo "HOSTILE vcpu_info off page"; xen-hcall 24 10 0 @u32:256,0,4090  # offset 4090 -> EINVAL
echo "HOSTILE param beyond table"; xen-hcall 34 1 @u32:0x7ff0,9999    # get_param -> EINVAL
echo "HOSTILE set console pfn"; xen-hcall 34 0 @u32:0x7ff0,17,1       # set CONSOLE_PFN -> EPERM
echo "HOSTILE shutdown reason"; xen-hcall 29 2 @u32:77                # -> EINVAL
echo "HOSTILE shared_info outside RAM"; xen-hcall 12 7 @u32:0x7ff0,0,0,0,0x100000,0  # gpfn at 4 GiB -> EINVAL
echo "AFTER-HCALL-OK"
