from ereput.cli import main

main()
