from wasync.cli import main

main()
