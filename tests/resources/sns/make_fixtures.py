#!/usr/bin/env python3
# Regenerate the SNS test fixtures in this directory (see README.md).
# Needs openssl; run from this directory. New keys mean new signatures
# and new certificate dates: update the times in
# tests/unit/test_adapter_sns.c after running it.
import base64, json, subprocess

def run(*args, data=None):
    return subprocess.run(args, input=data, capture_output=True,
                          check=True).stdout

run('openssl', 'genrsa', '-out', 'key.pem', '2048')
run('openssl', 'req', '-x509', '-new', '-key', 'key.pem', '-sha256',
    '-days', '36500', '-subj', '/CN=sns.amazonaws.com', '-out', 'cert.pem')
run('openssl', 'genrsa', '-out', 'key1024.pem', '1024')
run('openssl', 'req', '-x509', '-new', '-key', 'key1024.pem', '-sha256',
    '-days', '36500', '-subj', '/CN=small', '-out', 'cert_rsa1024.pem')
run('openssl', 'ecparam', '-name', 'prime256v1', '-genkey', '-noout',
    '-out', 'key_ec.pem')
run('openssl', 'req', '-x509', '-new', '-key', 'key_ec.pem', '-sha256',
    '-days', '36500', '-subj', '/CN=ec', '-out', 'cert_ec.pem')

# The documented key order; each type signs its own subset.
KEYS = ['Message', 'MessageId', 'Subject', 'SubscribeURL', 'Timestamp',
        'Token', 'TopicArn', 'Type']
HOST = 'https://sns.us-east-1.amazonaws.com'
CERT = HOST + '/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem'
TOPIC = 'arn:aws:sns:us-east-1:123456789012:vc-inbound'
TOKEN = ('2336412f37fb687f5d51e6e2425a8a5873cd3e4bd4e1ca9d6b6a0c5b8e6c2f7a'
         '9b1d3e5f')
WHEN = '2026-12-01T00:00:00.000Z'
SUB = HOST + '/?Action=ConfirmSubscription&TopicArn=' + TOPIC + '&Token=' + TOKEN

def string_to_sign(m):
    return ''.join(f'{k}\n{m[k]}\n' for k in KEYS if k in m)

def sign(m):
    dg = '-sha1' if m['SignatureVersion'] == '1' else '-sha256'
    sig = run('openssl', 'dgst', dg, '-sign', 'key.pem',
              data=string_to_sign(m).encode())
    return base64.b64encode(sig).decode()

two_way = json.dumps({
    'originationNumber': '+14155550123',
    'destinationNumber': '+12065550100',
    'messageKeyword': 'KEYWORD_123456789012',
    'messageBody': 'Yes, confirm my order',
    'inboundMessageId': '2a0c2b7e-9d0b-4cf3-a3c6-7f3c1ad0c2aa',
    'previousPublishedMessageId': '5f1c0d62-0b71-5e0e-a2d8-3b0f1a2b3c4d',
}, separators=(',', ':'))
messages = {
    'notification_v1_two_way': dict(
        Type='Notification', MessageId='6a1f3d2e-0f4b-5c7a-9e8d-1b2c3d4e5f60',
        TopicArn=TOPIC, Message=two_way, Timestamp=WHEN,
        SignatureVersion='1'),
    'notification_v2_subject': dict(
        Type='Notification', MessageId='7b2e4c3d-1a5c-5d8b-8f9e-2c3d4e5f6071',
        TopicArn=TOPIC, Subject='Inbound SMS',
        Message='plain text, not two-way JSON', Timestamp=WHEN,
        SignatureVersion='2'),
    'subscribe_v2': dict(
        Type='SubscriptionConfirmation',
        MessageId='8c3f5d4e-2b6d-4e9c-9a0f-3d4e5f607182', Token=TOKEN,
        TopicArn=TOPIC,
        Message='You have chosen to subscribe to the topic ' + TOPIC +
        '.\nTo confirm the subscription, visit the SubscribeURL included '
        'in this message.', SubscribeURL=SUB, Timestamp=WHEN,
        SignatureVersion='2'),
    'unsubscribe_v1': dict(
        Type='UnsubscribeConfirmation',
        MessageId='9d406e5f-3c7e-4fa0-8b10-4e5f60718293', Token=TOKEN,
        TopicArn=TOPIC, Message='You have chosen to deactivate subscription.',
        SubscribeURL=SUB, Timestamp=WHEN, SignatureVersion='1'),
}
for name, m in messages.items():
    m['Signature'] = sign(m)
    m['SigningCertURL'] = CERT
    if m['Type'] == 'Notification':
        m['UnsubscribeURL'] = (HOST + '/?Action=Unsubscribe&SubscriptionArn='
                               + TOPIC + ':0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0')
    with open(name + '.json', 'w') as f:
        f.write(json.dumps(m, indent=2))
# The keys are not kept: nothing needs them once the messages exist.
for k in ('key.pem', 'key1024.pem', 'key_ec.pem'):
    run('rm', '-f', k)
