# Asks the kernel for an immediate reboot (SCHEDOP_shutdown reboot).
echo "GUEST-REBOOTING"
echo b > /proc/sysrq-trigger
