from smpkit.protocol import decode_message, encode_request, parse_response
from smpkit.protocol.groups.os import Echo, EchoResponse


def test_echo_example_from_reference() -> None:
    assert encode_request(Echo(d="hello"), 0x42).hex() == "0a00000900004200a161646568656c6c6f"
    message = decode_message(bytes.fromhex("0b00000a00004200bf61726568656c6c6fff"))
    assert parse_response(Echo(d="hello"), message.body) == EchoResponse(r="hello")
