/** The little of node-amqp 0.2.7 (the AMQP 0-9-1 client Licode uses) that the tests touch. */
declare module "amqp" {
    import { EventEmitter } from "events";

    export interface ConnectionOptions {
        host?: string;
        port?: number;
        login?: string;
        password?: string;
        vhost?: string;
        connectionTimeout?: number;
        heartbeat?: number;
    }

    export interface ImplOptions {
        reconnect?: boolean;
    }

    export interface Exchange extends EventEmitter {
        readonly name: string;
        /** Publishes a message (an object is sent as JSON) with a routing key. */
        publish(routingKey: string, message: unknown): void;
    }

    export interface Queue extends EventEmitter {
        readonly name: string;
        /** Binds the queue to an exchange under a routing key; the callback runs once bound. */
        bind(exchange: string, routingKey: string, callback?: () => void): void;
        /** Consumes messages; JSON bodies arrive parsed. */
        subscribe(listener: (message: Record<string, unknown>) => void): void;
    }

    export interface Connection extends EventEmitter {
        /** Declares an exchange (node-amqp's defaults: non-durable, auto-delete). */
        exchange(
            name: string,
            options: { type?: string; autoDelete?: boolean },
            callback?: (exchange: Exchange) => void,
        ): Exchange;
        /** Declares a queue (node-amqp's defaults: non-durable, non-exclusive, auto-delete). */
        queue(name: string, callback?: (queue: Queue) => void): Queue;
        /** Sends connection.close; the broker then closes the socket. */
        disconnect(): void;
        /** Ends the socket without a connection.close. */
        end(): void;
    }

    export function createConnection(
        options: ConnectionOptions,
        implOptions?: ImplOptions,
        readyCallback?: () => void,
    ): Connection;
}
