# A real SMTP server for tests: every message it receives is written, as received, to a numbered
# file in the folder given, and "ready <port>" is printed once it listens.
#   /usr/bin/python3 mail-sink.py <folder> <port>
import asyncio
import os
import sys

from aiosmtpd.controller import Controller


class SaveToFolder:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, f"{self.count:04d}.eml")
        with open(path + ".part", "wb") as out:
            out.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            out.write(envelope.original_content or envelope.content)
        os.rename(path + ".part", path)
        return "250 OK"


async def main():
    folder, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(SaveToFolder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


asyncio.run(main())
