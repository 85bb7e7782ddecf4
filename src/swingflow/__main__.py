from swingflow.cli import main

main()
