from scrubber.cli.app import main

main()
