module smgcore.example/smgcore

go 1.19
