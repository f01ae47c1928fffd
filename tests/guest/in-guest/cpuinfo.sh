# Reports what the guest kernel sees: processors, memory, and the kernel's
# own accounting of its RAM ("Memory: free/total available (... kernel
# code, rwdata, rodata, init, bss ...)").
echo "GUEST-CPUS=$(grep -c '^processor' /proc/cpuinfo)"
echo "GUEST-MEMTOTAL-KB=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
echo "GUEST-DMESG-$(dmesg | grep -m1 'Memory: ' | sed 's/^\[[^]]*\] //')"
echo "GUEST-GNTTAB-OK=$(dmesg | grep -c "Grant table initialized")"
