from bench.chaos.runner import main

if __name__ == "__main__":
    main()
