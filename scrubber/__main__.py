from scrubber.cli import main

main()
