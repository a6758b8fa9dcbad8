#!/usr/bin/env python3
"""WeChat's side of the callback, played by wechatpy (an implementation nobody here wrote).

The Rust tests run this as a subprocess and exchange JSON with it:

  encrypt  --token T --aes-key K --appid A --nonce N --timestamp S [--openid O] < message.xml
           -> {"body": "<xml><ToUserName/><Encrypt/></xml>",
               "query": {"signature", "timestamp", "nonce", "encrypt_type", "msg_signature"[, "openid"]}}
           exactly what WeChat POSTs to the callback in safe mode.
  decrypt  --token T --aes-key K --appid A [--nonce N] [--timestamp S] < reply.xml
           checks the reply envelope's MsgSignature, decrypts it, and parses the reply:
           -> {"xml": "...", "reply": {"type", "source", "target", "time", ...}}
  reply    < reply.xml   parses a plain-mode reply the same way (no crypto).
  parse    < message.xml parses an incoming message with wechatpy.parse_message.
  sign     --token T --timestamp S --nonce N [--encrypt E]
           -> {"signature": ..., "msg_signature": ...}
  check    --token T --signature G --timestamp S --nonce N
           -> {"ok": true|false}; exit status 0 when the signature is right, 1 otherwise.

Errors go to stderr with exit status 2.
"""

import argparse
import json
import sys

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.fields import ArticlesField
from wechatpy.replies import deserialize_reply
from wechatpy.utils import WeChatSigner, check_signature


def signature_of(*parts):
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def read_stdin():
    return sys.stdin.buffer.read().decode("utf-8")


def reply_fields(xml):
    """A reply as JSON, through wechatpy's reply classes."""
    root = xmltodict.parse(xml, force_list=("item",))["xml"]
    if root.get("MsgType") == "news":
        # deserialize_reply cannot read a one-item news reply (xmltodict gives a dict, not a
        # list), so read it with the same field class wechatpy uses.
        return {
            "type": "news",
            "source": root.get("FromUserName"),
            "target": root.get("ToUserName"),
            "time": int(root.get("CreateTime")),
            "article_count": int(root.get("ArticleCount")),
            "articles": ArticlesField.from_xml(root["Articles"]),
        }
    reply = deserialize_reply(xml)
    out = {
        "type": reply.type,
        "source": reply.source,
        "target": reply.target,
        "time": int(reply.time),
    }
    if reply.type == "text":
        out["content"] = reply.content
    return out


def command_encrypt(args):
    xml = read_stdin()
    crypto = WeChatCrypto(args.token, args.aes_key, args.appid)
    sealed = xmltodict.parse(crypto.encrypt_message(xml, args.nonce, args.timestamp))["xml"]
    to_user = xmltodict.parse(xml)["xml"].get("ToUserName", "")
    body = (
        "<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
        "<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    ).format(to=to_user, encrypt=sealed["Encrypt"])
    query = {
        "signature": signature_of(args.token, args.timestamp, args.nonce),
        "timestamp": args.timestamp,
        "nonce": args.nonce,
        "encrypt_type": "aes",
        "msg_signature": sealed["MsgSignature"],
    }
    if args.openid:
        query["openid"] = args.openid
    return {"body": body, "query": query}


def command_decrypt(args):
    body = read_stdin()
    envelope = xmltodict.parse(body)["xml"]
    timestamp = envelope["TimeStamp"]
    nonce = envelope["Nonce"]
    if args.timestamp is not None and timestamp != args.timestamp:
        raise ValueError("the reply's TimeStamp is not the request's")
    if args.nonce is not None and nonce != args.nonce:
        raise ValueError("the reply's Nonce is not the request's")
    crypto = WeChatCrypto(args.token, args.aes_key, args.appid)
    xml = crypto.decrypt_message(body, envelope["MsgSignature"], timestamp, nonce)
    return {"xml": xml, "reply": reply_fields(xml)}


def command_reply(_args):
    xml = read_stdin()
    return {"xml": xml, "reply": reply_fields(xml)}


def command_parse(_args):
    message = parse_message(read_stdin())
    out = {"type": message.type, "source": message.source, "target": message.target,
           "time": int(message.time), "id": message.id}
    for name in ("content", "event", "key", "scene_id", "ticket", "url"):
        if hasattr(message, name):
            out[name] = getattr(message, name)
    return out


def command_sign(args):
    out = {"signature": signature_of(args.token, args.timestamp, args.nonce)}
    if args.encrypt is not None:
        out["msg_signature"] = signature_of(args.token, args.timestamp, args.nonce, args.encrypt)
    return out


def command_check(args):
    try:
        check_signature(args.token, args.signature, args.timestamp, args.nonce)
        return {"ok": True}
    except InvalidSignatureException:
        return {"ok": False}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def account(sub):
        sub.add_argument("--token", required=True)
        sub.add_argument("--aes-key", required=True)
        sub.add_argument("--appid", required=True)

    encrypt = commands.add_parser("encrypt")
    account(encrypt)
    encrypt.add_argument("--nonce", required=True)
    encrypt.add_argument("--timestamp", required=True)
    encrypt.add_argument("--openid")

    decrypt = commands.add_parser("decrypt")
    account(decrypt)
    decrypt.add_argument("--nonce")
    decrypt.add_argument("--timestamp")

    commands.add_parser("reply")
    commands.add_parser("parse")

    sign = commands.add_parser("sign")
    sign.add_argument("--token", required=True)
    sign.add_argument("--timestamp", required=True)
    sign.add_argument("--nonce", required=True)
    sign.add_argument("--encrypt")

    check = commands.add_parser("check")
    check.add_argument("--token", required=True)
    check.add_argument("--signature", required=True)
    check.add_argument("--timestamp", required=True)
    check.add_argument("--nonce", required=True)

    args = parser.parse_args()
    handlers = {
        "encrypt": command_encrypt,
        "decrypt": command_decrypt,
        "reply": command_reply,
        "parse": command_parse,
        "sign": command_sign,
        "check": command_check,
    }
    try:
        result = handlers[args.command](args)
    except Exception as error:  # noqa: BLE001 - any failure is the test's answer
        print("{}: {}".format(type(error).__name__, error), file=sys.stderr)
        sys.exit(2)
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    if args.command == "check" and not result["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
