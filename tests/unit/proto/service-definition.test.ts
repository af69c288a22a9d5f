import { describe, expect, test } from "bun:test";
import {
  BootstrapServiceDefinition,
  BootstrapServiceFullName,
  ControllerMessage,
  DaemonMessage,
  DaemonServiceDefinition,
  DaemonServiceFullName,
  RedeemJoinTokenRequest,
} from "../../../src/wire/index.ts";

describe("nice-grpc service definitions", () => {
  test("DaemonService.Connect is one bidirectional stream", () => {
    expect(DaemonServiceFullName).toBe("prexor.v1.DaemonService");
    const connect = DaemonServiceDefinition.connect;
    expect(connect.path).toBe("/prexor.v1.DaemonService/Connect");
    expect(connect.requestStream).toBe(true);
    expect(connect.responseStream).toBe(true);
    const hello = DaemonMessage.create({ frame: { case: "pong", value: { sequence: 3 } } });
    expect(connect.requestDeserialize(connect.requestSerialize(hello))).toEqual(hello);
    const ping = ControllerMessage.create({
      epoch: 1,
      frame: { case: "ping", value: { sequence: 3, controllerGrpcAddrs: [] } },
    });
    expect(connect.responseDeserialize(connect.responseSerialize(ping))).toEqual(ping);
  });

  test("BootstrapService methods are unary", () => {
    expect(BootstrapServiceFullName).toBe("prexor.v1.BootstrapService");
    expect(Object.keys(BootstrapServiceDefinition).sort()).toEqual(["getClusterCa", "redeemJoinToken"]);
    const redeem = BootstrapServiceDefinition.redeemJoinToken;
    expect(redeem.path).toBe("/prexor.v1.BootstrapService/RedeemJoinToken");
    expect(redeem.requestStream).toBe(false);
    expect(redeem.responseStream).toBe(false);
    const request = RedeemJoinTokenRequest.create({ joinToken: "pxr_x", csrDer: new Uint8Array([1, 2, 3]) });
    expect(redeem.requestDeserialize(redeem.requestSerialize(request))).toEqual(request);
  });
});
