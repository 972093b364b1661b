from autorecipe.cli import main

main()
