module vyomcomm.dev/vyomcomm

go 1.19
