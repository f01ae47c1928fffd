# An interactive shell on the console, for tests that type into it.
echo "KXEN-SHELL-READY"
setsid cttyhack sh
