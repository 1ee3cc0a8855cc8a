"""Starts tests/awsemu/awsemu.py with TCP_NODELAY on its accepted sockets.

http.server writes a response's headers and body in two send() calls; on a
kept-alive connection Nagle's algorithm then holds the body until the
client's delayed ACK (40 ms on Linux), which hides everything the benchmark
wants to measure. AWS's own endpoints do not behave like that. Usage:
    python3 emu_nodelay.py path/to/awsemu.py [awsemu arguments...]
"""
import runpy, sys, socketserver
socketserver.StreamRequestHandler.disable_nagle_algorithm = True
sys.argv = [sys.argv[1]] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
