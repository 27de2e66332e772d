"""Checks that the emulator launcher's Query answers exactly as moto's own."""

import random

import boto3
import pytest
from moto import mock_aws

import server

TABLE = "t"


def pages(client, **request):
    """Returns every page of a Query, following LastEvaluatedKey."""
    answers = []
    while True:
        page = client.query(TableName=TABLE, **request)
        answers.append((page["Items"], page.get("LastEvaluatedKey"), page["Count"]))
        if "LastEvaluatedKey" not in page:
            return answers
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def requests():
    """Returns table and index queries of every kind the project makes, and a few more."""
    value = lambda text: {"S": text}  # noqa: E731
    found = []
    for p in ["P#1", "P#7", "P#none"]:
        found.append(dict(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": value(p)}))
        found.append(
            dict(
                KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                ExpressionAttributeValues={":p": value(p), ":a": value("S#1"), ":b": value("S#5~")},
                ConsistentRead=True,
            )
        )
        found.append(
            dict(
                KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                ExpressionAttributeValues={":p": value(p), ":s": value("S#2")},
                ScanIndexForward=False,
                Limit=3,
            )
        )
    for g in ["G#0", "G#3", "G#none"]:
        found.append(dict(IndexName="gsi1", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": value(g)}))
        found.append(
            dict(
                IndexName="gsi1",
                KeyConditionExpression="g = :g AND gs > :s",
                ExpressionAttributeValues={":g": value(g), ":s": value("4")},
                Limit=4,
                ScanIndexForward=False,
            )
        )
    return found


@pytest.fixture
def client(monkeypatch):
    # The table lives in this process's moto, not in a server the environment may point at.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ["pk", "sk", "g", "gs"]],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "gs", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        rng = random.Random(7)
        for i in range(600):
            item = {"pk": {"S": f"P#{rng.randrange(12)}"}, "sk": {"S": f"S#{rng.randrange(90)}"}, "n": {"N": str(i)}}
            # Some items stay out of the index, as items without the index keys do.
            if rng.random() < 0.8:
                item["g"] = {"S": f"G#{rng.randrange(5)}"}
                item["gs"] = {"S": str(rng.randrange(9))}
            client.put_item(TableName=TABLE, Item=item)
        yield client
    server.uninstall()


def test_queries_answer_as_moto_does(client):
    for request in requests():
        server.uninstall()
        expected = pages(client, **dict(request))
        server.install()
        actual = pages(client, **dict(request))
        assert actual == expected, request


def test_scan_is_unchanged(client):
    server.uninstall()
    expected = client.scan(TableName=TABLE)["Items"]
    server.install()
    assert client.scan(TableName=TABLE)["Items"] == expected
